"""Batch-size sweep: intensity, attainable utilization and predicted throughput vs batch.

Seed 000 Fig. 3: intensity and utilization plateau at large batch, at the batch-limited limit
(Eqn 4). Predicted throughput is batch / waterline latency; attainable utilization is the
waterline's maximum computational efficiency (seed 001 Eqn 13).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from intensity.analysis.predict import predict
from intensity.hardware import HardwareSpec, get_spec


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


def sweep_batch(model: torch.nn.Module | str, batches: Sequence[int], *, device: str | HardwareSpec,
                dtype: str = "fp16", **analyze_options: object) -> list[SweepPoint]:
    if not batches:
        raise ValueError("give at least one batch size, e.g. `batches` 1,16,256,1024")
    spec = get_spec(device, dtype)
    points = []
    for batch in batches:
        p = predict(model, device=spec, dtype=dtype, batch=batch, **analyze_options)
        totals = p.report.totals
        points.append(SweepPoint(batch, totals.intensity, totals.intensity_limit, p.utilization,
                                 p.latency, p.images_per_s, p.estimated_images_per_s, p.estimated_utilization))
    return points
