"""Spec -> analyze -> waterline: the one place that sequence lives (DESIGN).

Every prediction (roofline tables, batch sweeps, folding, scaling, reports) asks `predict` for the
cost report of a model on a device and the waterline of its kernels at the device's peak.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from intensity.analysis.roofline import Waterline, waterline
from intensity.api import analyze
from intensity.cost import CostReport
from intensity.hardware import HardwareSpec, get_spec


@dataclass(frozen=True)
class Prediction:
    """A model's cost report on a device and the waterline of its kernels there."""

    report: CostReport
    spec: HardwareSpec
    line: Waterline

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
    return Prediction(report, spec, waterline(report.kernels, spec.peak_flops(dtype), spec.bandwidth))
