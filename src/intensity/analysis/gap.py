"""The efficiency gap (seed 001 3, Eqn 1-9): ideal vs actual latency and computational efficiency.

Ideal latency t_i = n / R_i (Eqn 1); actual throughput R_a = n / t_a (Eqn 3); computational
efficiency C = R_a / R_i = t_i / t_a (Eqn 7); so t_a = t_i / C (Eqn 8) and, on a log latency axis,
log t_a = log t_i - log C (Eqn 9): the gap between ideal and actual is -log C.

Seed 003's GPU *utilization* (throughput x flops per image / peak, its 3.1) is the same quantity
under another name: achieved flops/s over peak flops/s. `computational_efficiency` below is the one
home of that formula; `measure.throughput.utilization` and `EfficiencyGap.efficiency` call it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


def computational_efficiency(achieved_flops_per_s: float, peak_flops_per_s: float) -> float:
    """Achieved over peak flops/s: seed 001's computational efficiency C (Eqn 7, = t_i / t_a),
    which seed 003 calls utilization (3.1). 1.0 means the device ran at its peak."""
    if not peak_flops_per_s > 0:
        raise ValueError(f"peak flops/s must be positive, got {peak_flops_per_s}; check the device "
                         f"spec or `peak_tflops`")
    return achieved_flops_per_s / peak_flops_per_s


@dataclass(frozen=True)
class EfficiencyGap:
    model: str
    flops: float  # n, per batch
    peak_flops: float  # R_i
    ideal_latency: float  # t_i
    actual_latency: float  # t_a
    accuracy: float | None = None

    @property
    def actual_flops(self) -> float:
        """R_a (Eqn 3)."""
        return self.flops / self.actual_latency

    @property
    def efficiency(self) -> float:
        """C (Eqn 7), i.e. utilization."""
        return computational_efficiency(self.actual_flops, self.peak_flops)

    @property
    def log_gap(self) -> float:
        """log t_a - log t_i = -log C (Eqn 9), natural log."""
        return math.log(self.actual_latency) - math.log(self.ideal_latency)


def efficiency_gap(model: str, flops: float, actual_latency: float, peak_flops: float,
                   accuracy: float | None = None) -> EfficiencyGap:
    if flops <= 0 or actual_latency <= 0 or peak_flops <= 0:
        raise ValueError("the efficiency gap needs positive flops, measured latency and peak")
    return EfficiencyGap(model, flops, peak_flops, flops / peak_flops, actual_latency, accuracy)
