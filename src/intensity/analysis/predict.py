"""Spec -> analyze -> waterline: the one place that sequence lives (DESIGN).

Every prediction (roofline tables, batch sweeps, folding, scaling, reports) asks `predict` for the
cost report of a model on a device and the waterline of its kernels at the device's peak.
On a calibrated device (`--device calibrated[:FILE]`) the waterline is the sum of the kernels'
calibrated times (analysis/calibrated.py) and `roofline` keeps the plain one: the upper bound.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from intensity.analysis.calibrated import CalibratedTimes, calibrated_times
from intensity.analysis.roofline import Waterline, waterline
from intensity.api import analyze
from intensity.cost import CostReport
from intensity.hardware import HardwareSpec, get_spec


@dataclass(frozen=True)
class Prediction:
    """A model's cost report on a device and the waterline of its kernels there."""

    report: CostReport
    spec: HardwareSpec
    line: Waterline  # calibrated devices: the calibrated waterline
    calibrated: CalibratedTimes | None = None  # per-kernel calibrated times, with fallback flags

    @property
    def roofline(self) -> Waterline:
        """The plain roofline's waterline: an upper bound on performance (lower bound on latency)."""
        return self.calibrated.roofline if self.calibrated else self.line

    @property
    def latency(self) -> float:
        """Waterline seconds per batch (seed 001 Eqn 12)."""
        return self.line.latency

    @property
    def utilization(self) -> float:
        """Attainable utilization: the waterline's maximum computational efficiency (Eqn 13)."""
        return self.line.efficiency

    @property
    def images_per_s(self) -> float:
        return self.report.batch / self.line.latency if self.line.latency else 0.0


def predict(model: torch.nn.Module | str, *, device: str | HardwareSpec, dtype: str = "fp16",
            batch: int = 1, input_shape: str | Sequence[int] | None = None,
            **analyze_options: object) -> Prediction:
    """Resolve the device for `dtype`, count `model` at `batch`, and take the waterline."""
    spec = get_spec(device, dtype)
    report = analyze(model, batch=batch, input_shape=input_shape, dtype=dtype, device=spec,
                     **analyze_options)
    calibration = getattr(spec, "calibration", None)
    if calibration is not None:
        times = calibrated_times(report.kernels, calibration, spec.peak_flops(dtype), spec.bandwidth)
        return Prediction(report, spec, times.line, times)
    return Prediction(report, spec, waterline(report.kernels, spec.peak_flops(dtype), spec.bandwidth))
