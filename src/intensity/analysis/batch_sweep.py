"""Batch-size sweep: intensity, attainable utilization and predicted throughput vs batch.

Seed 000 Fig. 3: intensity and utilization plateau at large batch, at the batch-limited limit
(Eqn 4). Predicted throughput is batch / waterline latency; attainable utilization is the
waterline's maximum computational efficiency (seed 001 Eqn 13).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from intensity.analysis.predict import Prediction, estimate_kind, predict
from intensity.hardware import HardwareSpec, get_spec
from intensity.errors import TooLargeError
from intensity.progress import Progress, notify


@dataclass(frozen=True)
class SweepPoint:
    batch: int
    intensity: float  # mediant, flop/byte
    intensity_limit: float | None  # batch-limited limit (seed 000 Eqn 4)
    utilization: float  # waterline maximum computational efficiency
    latency: float  # waterline seconds per batch
    throughput: float  # images/s: the bound's (never beaten)
    estimated_throughput: float | None = None  # images/s the runtime will likely measure (GPU specs)
    estimated_utilization: float | None = None
    estimate_runtime: str | None = None  # eager or compiled: whose measurement the estimate is
    estimate_profile: str | None = None  # the efficiency profile it used


def estimate_label(points: Sequence[SweepPoint]) -> str:
    """'estimate: what compiled PyTorch will likely measure (rtx4090 profile)'; '' without one."""
    point = next((p for p in points if p.estimate_runtime), None)
    return estimate_kind(point.estimate_runtime, point.estimate_profile) if point else ""


def stopped_note(points: Sequence[SweepPoint], batches: Sequence[int]) -> str | None:
    """What a sweep run `until_too_large` says when it ended early; None when it did not."""
    if len(points) >= len(batches):
        return None
    return (f"the batch sweep ends at batch {points[-1].batch}: counting batch {batches[len(points)]} would need "
            f"more memory than this machine has (the model is counted on real tensors)")


def sweep_batch(model: torch.nn.Module | str, batches: Sequence[int], *, device: str | HardwareSpec,
                dtype: str = "fp16", progress: Progress | None = None, until_too_large: bool = False,
                **analyze_options: object) -> list[SweepPoint]:
    """Predict `model` at each batch; `progress` hears of each batch done. With `until_too_large`
    the sweep ends at the first batch (after the first) too large to count on this machine (a
    detection model counted on real tensors) instead of failing."""
    if not batches:
        raise ValueError("give at least one batch size, e.g. `batches` 1,16,256,1024")
    repeated = sorted({b for b in batches if list(batches).count(b) > 1})
    if repeated:  # a typo (1,1,2): counting twice gives the same row twice
        raise ValueError(f"`batches` lists {', '.join(map(str, repeated))} more than once; give each batch size "
                         f"once, e.g. 1,16,256")
    spec = get_spec(device, dtype)
    points = []
    for done, batch in enumerate(batches):
        notify(progress, "batch sweep", done, len(batches))
        try:
            prediction = predict(model, device=spec, dtype=dtype, batch=batch, **analyze_options)
        except TooLargeError:
            if not (until_too_large and points):
                raise
            break
        points.append(_point(prediction))
    notify(progress, "batch sweep", len(batches), len(batches))
    return points


def _point(p: Prediction) -> SweepPoint:
    """The bound is always the plain roofline's waterline; the estimate is the GPU profile's or, on a
    calibrated device, the calibrated kernel times (there `p.line` is the calibrated waterline)."""
    bound, totals, batch = p.roofline, p.report.totals, p.report.batch
    if p.calibrated is not None:
        estimate = (batch / p.line.latency if p.line.latency else None, p.line.efficiency)
    else:
        estimate = (p.estimated_images_per_s, p.estimated_utilization)
    return SweepPoint(batch, totals.intensity, totals.intensity_limit, bound.efficiency, bound.latency,
                      batch / bound.latency if bound.latency else 0.0, *estimate, *p.estimate_source)
