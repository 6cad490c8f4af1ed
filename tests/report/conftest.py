"""Fixtures for the report tests: a tiny two-kernel model and a hand-made measurement."""
from __future__ import annotations

import pytest
import torch

from intensity import analyze
from intensity.analysis.roofline import waterline
from intensity.measure.measurement import Measurement
from intensity.measure.throughput import Throughput


class TwoKernels(torch.nn.Module):
    """conv (3->4, 3x3, no bias) then a max pool (no flops) then a sort (not countable)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.MaxPool2d(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sort(self.features(x).flatten(1), dim=1).values


@pytest.fixture
def tiny_report():
    """batch 2, 3x8x8 fp32 on v100: conv = 2*(2*4*6*6)*(3*3*3) = 15,552 flops."""
    return analyze(TwoKernels(), batch=2, input_shape=(3, 8, 8), dtype="fp32", device="v100")


@pytest.fixture
def tiny_line(tiny_report):
    spec = tiny_report.device
    return waterline(tiny_report.kernels, spec["peak_tflops"] * 1e12, spec["bandwidth_gbs"] * 1e9)


def make_measurement(accuracy: float | None = None, **throughput: object) -> Measurement:
    """A CPU fp32 measurement at batch 8: 100 images/s, so 80 ms per batch."""
    fields = dict(device="cpu", batch=8, dtype="fp32", images_per_s=100.0, images_per_s_min=90.0,
                  images_per_s_max=110.0, batch_latency=0.08, trials=3, iters=5, channels_last=False,
                  compiled=False, threads=2, trial_images_per_s=(90.0, 100.0, 110.0), spread=0.2,
                  busy=True, warning="trials spread 20%")
    fields.update(throughput)
    # 1e9 flops/image at 100 images/s = 0.1 TFLOP/s of a 1 TFLOP/s peak: utilization 10%.
    return Measurement("noscope-coral", "measured", 1.0, 10**9, Throughput(**fields), 0.1, 0.008, 0.08, 0.1,
                       2.302585, accuracy)
