"""Batch-size sweep: intensity, attainable utilization and predicted throughput vs batch.

Seed 000 Fig. 3: intensity and utilization plateau at large batch, at the batch-limited limit
(Eqn 4). Predicted throughput is batch / waterline latency; attainable utilization is the
waterline's maximum computational efficiency (seed 001 Eqn 13).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from intensity.analysis.roofline import waterline
from intensity.api import analyze
from intensity.hardware import HardwareSpec, get_spec


@dataclass(frozen=True)
class SweepPoint:
    batch: int
    intensity: float  # mediant, flop/byte
    intensity_limit: float | None  # batch-limited limit (seed 000 Eqn 4)
    utilization: float  # waterline maximum computational efficiency
    latency: float  # waterline seconds per batch
    throughput: float  # images/s


def sweep_batch(model: torch.nn.Module | str, batches: Sequence[int], *, device: str | HardwareSpec,
                dtype: str = "fp16", **analyze_options: object) -> list[SweepPoint]:
    if not batches:
        raise ValueError("give at least one batch size, e.g. --batches 1,16,256,1024")
    spec = get_spec(device, dtype)
    points = []
    for batch in batches:
        report = analyze(model, batch=batch, dtype=dtype, device=spec, **analyze_options)
        line = waterline(report.kernels, spec.peak_flops(dtype), spec.bandwidth)
        points.append(SweepPoint(batch, report.totals.intensity, report.totals.intensity_limit,
                                 line.efficiency, line.latency, batch / line.latency))
    return points
