"""Measured throughput and utilization on this CPU (short runs); spread, threads and progress."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import intensity.measure.throughput as throughput
from intensity.analysis.gap import computational_efficiency, efficiency_gap
from intensity.hardware.microbench import measure_peak_tflops
from intensity.measure.throughput import measure_throughput, utilization


def _tiny() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 64, 4))


def test_cpu_measurement_gives_positive_throughput_and_utilization_at_most_one():
    result = measure_throughput(_tiny(), 8, (3, 8, 8), warmup=1, iters=3, trials=2)
    assert result.images_per_s > 0 and result.images_per_s_min <= result.images_per_s <= result.images_per_s_max
    assert result.batch_latency == pytest.approx(8 / result.images_per_s)
    assert len(result.trial_images_per_s) == 2 and result.threads == torch.get_num_threads()
    flops_per_image = 2 * 64 * 16 * 27 + 2 * 16 * 64 * 4  # conv + linear
    peak = measure_peak_tflops("fp32", "cpu", size=256, trials=3) * 1e12
    assert 0 < utilization(result.images_per_s, flops_per_image, peak) <= 1


def _scripted(monkeypatch, seconds):
    """Replace the timer: each timed run takes the next of `seconds` (warm-up first)."""
    queue = list(seconds)
    monkeypatch.setattr(throughput, "_timed_run", lambda model, x, iters, device, tick: queue.pop(0))


def test_spread_and_busy_flag_from_a_scripted_timer(monkeypatch):
    # batch 10, iters 2: 20 images per trial; trials of 0.2, 0.25, 0.16 s -> 100, 80, 125 images/s
    _scripted(monkeypatch, [1.0, 0.2, 0.25, 0.16])
    result = measure_throughput(nn.Identity(), 10, (1,), warmup=1, iters=2, trials=3)
    assert result.trial_images_per_s == pytest.approx((100, 80, 125))
    assert result.images_per_s == pytest.approx(100) and result.batch_latency == pytest.approx(0.1)
    assert result.spread == pytest.approx((125 - 80) / 100)  # 45% > 10%
    assert result.busy and "spread 45% (> 10%)" in result.warning and "machine was busy" in result.warning


def test_agreeing_trials_are_not_busy(monkeypatch):
    # 20 images in 0.2, 0.204, 0.198 s -> 100, 98.04, 101.01 images/s: spread 3%
    _scripted(monkeypatch, [0.2, 0.204, 0.198])
    result = measure_throughput(nn.Identity(), 10, (1,), warmup=0, iters=2, trials=3)
    assert result.spread == pytest.approx((20 / 0.198 - 20 / 0.204) / 100)
    assert not result.busy and result.warning == ""


def test_threads_are_fixed_during_the_timing_and_restored(monkeypatch):
    before = torch.get_num_threads()
    seen = []

    def timed(model, x, iters, device, tick):
        seen.append(torch.get_num_threads())
        return 0.1

    monkeypatch.setattr(throughput, "_timed_run", timed)
    result = measure_throughput(nn.Identity(), 2, (1,), warmup=1, iters=1, trials=2, threads=1)
    assert seen == [1, 1, 1] and result.threads == 1 and torch.get_num_threads() == before


def test_progress_hears_of_every_batch():
    calls = []
    measure_throughput(_tiny(), 2, (3, 8, 8), warmup=2, iters=3, trials=2, progress=lambda *a: calls.append(a))
    # 2 warm-up + 2 trials x 3 batches = 8 steps, announced at 0 first
    assert calls == [("timing batch 2 on cpu", i, 8) for i in range(9)]


def test_utilization_is_throughput_times_flops_over_peak():
    assert utilization(1000, 2e9, 1e13) == pytest.approx(0.2)  # 1000 img/s * 2 GFLOP / 10 TFLOP/s


def test_utilization_and_computational_efficiency_are_one_formula():
    # 4e12 flops per batch in 0.2 s on 76.7 TFLOP/s: C = 20 / 76.7. The same batch as 40 images of
    # 1e11 flops: 40 / 0.2 = 200 img/s, utilization 200 * 1e11 / 76.7e12 = 20 / 76.7
    gap = efficiency_gap("m", 4e12, 0.2, 76.7e12)
    assert gap.efficiency == pytest.approx(utilization(200, 1e11, 76.7e12))
    assert gap.efficiency == pytest.approx(computational_efficiency(20e12, 76.7e12))
    with pytest.raises(ValueError, match="peak flops/s must be positive"):
        utilization(1, 1, 0)


def test_amp_runs_the_fp32_model_under_autocast(monkeypatch):
    seen = []

    def timed(model, x, iters, device, tick):
        out = model(x)
        seen.append((x.dtype, next(model.parameters()).dtype, out.dtype, torch.is_autocast_enabled("cpu")))
        return 0.1

    monkeypatch.setattr(throughput, "_timed_run", timed)
    model = nn.Sequential(nn.Conv2d(3, 4, 1))
    result = measure_throughput(model, 2, (3, 4, 4), warmup=0, iters=1, trials=1, dtype="bf16", amp=True)
    # input and weights stay fp32; the conv runs (and returns) bf16 inside autocast
    assert seen == [(torch.float32, torch.float32, torch.bfloat16, True)]
    assert result.amp and result.dtype == "bf16" and not torch.is_autocast_enabled("cpu")


def test_without_amp_the_model_is_cast(monkeypatch):
    seen = []
    monkeypatch.setattr(throughput, "_timed_run",
                        lambda model, x, iters, device, tick: seen.append((x.dtype, model(x).dtype)) or 0.1)
    result = measure_throughput(nn.Sequential(nn.Conv2d(3, 4, 1)), 2, (3, 4, 4), warmup=0, iters=1, trials=1,
                                dtype="bf16")
    assert seen == [(torch.bfloat16, torch.bfloat16)] and not result.amp


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dtype": "fp32", "amp": True}, r"runs in fp16 or bf16, not fp32: use --dtype fp16 or bf16"),
    ({"device": "tpu"}, "unknown `device` 'tpu'; choose one of cpu, cuda"),
    ({"dtype": "int8"}, "int8 is for analysis only"),
    ({"iters": 0}, "must be positive"),
    ({"threads": 0}, "`threads` must be a positive number"),
])
def test_bad_measurement_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        measure_throughput(nn.Identity(), 2, (3, 4, 4), **kwargs)


@pytest.mark.gpu
def test_cuda_measurement_in_fp16_channels_last():
    model = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU())
    result = measure_throughput(model, 64, (3, 32, 32), device="cuda", dtype="fp16", channels_last=True)
    assert result.images_per_s > 0
