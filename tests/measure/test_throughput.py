"""Measured throughput and utilization on this CPU (short runs)."""
from __future__ import annotations

import pytest
from torch import nn

from intensity.hardware.microbench import measure_peak_tflops
from intensity.measure.throughput import measure_throughput, utilization


def test_cpu_measurement_gives_positive_throughput_and_utilization_at_most_one():
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 64, 4))
    result = measure_throughput(model, 8, (3, 8, 8), warmup=1, iters=3, trials=2)
    assert result.images_per_s > 0 and result.images_per_s_min <= result.images_per_s <= result.images_per_s_max
    assert result.batch_latency == pytest.approx(8 / result.images_per_s)
    flops_per_image = 2 * 64 * 16 * 27 + 2 * 16 * 64 * 4  # conv + linear
    peak = measure_peak_tflops("fp32", "cpu") * 1e12
    assert 0 < utilization(result.images_per_s, flops_per_image, peak) <= 1


def test_utilization_is_throughput_times_flops_over_peak():
    assert utilization(1000, 2e9, 1e13) == pytest.approx(0.2)  # 1000 img/s * 2 GFLOP / 10 TFLOP/s


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"device": "tpu"}, "unknown measurement device"),
    ({"dtype": "int8"}, "int8 is for analysis only"),
    ({"iters": 0}, "must be positive"),
])
def test_bad_measurement_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        measure_throughput(nn.Identity(), 2, (3, 4, 4), **kwargs)


@pytest.mark.gpu
def test_cuda_measurement_in_fp16_channels_last():
    model = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU())
    result = measure_throughput(model, 64, (3, 32, 32), device="cuda", dtype="fp16", channels_last=True)
    assert result.images_per_s > 0
