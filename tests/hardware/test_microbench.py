"""Micro-benchmarks: tiny sizes (fast), fixed threads, trials, spread, caching, progress."""
from __future__ import annotations

import pytest
import torch

from intensity.hardware import get_spec
from intensity.hardware.microbench import (
    benchmark_bandwidth, benchmark_peak, measure_bandwidth_gbs, measure_peak_tflops, measured_spec,
)
from intensity.hardware.timing import BUSY_SPREAD, Benchmark, busy_warning, fixed_threads, spread


def test_peak_benchmark_runs_its_trials_on_fixed_threads_and_reports_progress():
    calls = []
    before = torch.get_num_threads()
    run = benchmark_peak("fp32", "cpu", size=64, trials=3, threads=1, min_seconds=0.002,
                         progress=lambda *a: calls.append(a))
    assert torch.get_num_threads() == before  # restored afterwards
    assert run.threads == 1 and len(run.trials) == 3 and run.best == max(run.trials) > 0
    assert run.unit == "TFLOP/s" and run.spread >= 0
    # one call when the stage starts, then one per trial
    assert calls == [("cpu fp32 matmul peak", i, 3) for i in range(4)]


def test_results_are_cached_per_settings_and_the_floats_are_the_best_trial():
    first = benchmark_peak("fp32", "cpu", size=48, trials=2, min_seconds=0.001)
    calls = []
    again = benchmark_peak("fp32", "cpu", size=48, trials=2, min_seconds=0.001, progress=lambda *a: calls.append(a))
    assert again is first and calls == []  # cached: nothing re-run, nothing to report
    assert measure_peak_tflops("fp32", "cpu", size=32, trials=2) > 0


def test_bandwidth_benchmark_counts_read_and_write():
    run = benchmark_bandwidth("cpu", megabytes=4, trials=2, threads=1, min_seconds=0.002)
    assert run.unit == "GB/s" and len(run.trials) == 2 and run.best == max(run.trials) > 0
    assert measure_bandwidth_gbs("cpu", megabytes=4, trials=2) > 0


@pytest.mark.parametrize(("call", "message"), [
    (lambda: benchmark_peak("fp32", "cpu", size=0), "matrix size must be positive"),
    (lambda: benchmark_peak("int8", "cpu"), "cannot measure a int8 peak"),
    (lambda: benchmark_peak("fp32", "cpu", size=16, trials=0), "trials must be positive"),
    (lambda: benchmark_bandwidth("cpu", megabytes=-1), "buffer size in MB must be positive"),
    (lambda: benchmark_peak("fp32", "cpu", size=16, threads=0), "`threads` must be a positive number"),
])
def test_bad_benchmark_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_spread_and_busy_verdict_by_hand():
    # trials 90, 100, 110: (110 - 90) / 100 = 20% > 10%: busy
    assert spread([90, 100, 110]) == pytest.approx(0.2)
    assert "spread 20% (> 10%) with 2 thread(s)" in busy_warning("peak", [90, 100, 110], 2)
    # 98, 100, 103: 5%: quiet, no warning
    assert busy_warning("peak", [98, 100, 103], 2) == ""
    run = Benchmark("peak", "TFLOP/s", 110, (90, 100, 110), 2, 0.1)
    assert run.busy and run.spread > BUSY_SPREAD and "spread 20%" in run.describe()


def test_fixed_threads_sets_and_restores():
    before = torch.get_num_threads()
    with fixed_threads(1) as used:
        assert used == 1 == torch.get_num_threads()
    with fixed_threads(None) as used:
        assert used == before
    assert torch.get_num_threads() == before


def test_measured_spec_carries_the_benchmarks(monkeypatch):
    import intensity.hardware.microbench as microbench

    fake = {"peak": Benchmark("cpu fp32 matmul peak", "TFLOP/s", 0.2, (0.1, 0.2), 2, 0.1),
            "bandwidth": Benchmark("cpu copy bandwidth", "GB/s", 20.0, (19.9, 20.0), 2, 0.1)}
    monkeypatch.setattr(microbench, "benchmark_peak", lambda *a, **k: fake["peak"])
    monkeypatch.setattr(microbench, "benchmark_bandwidth", lambda *a, **k: fake["bandwidth"])
    spec = measured_spec("cpu", "fp32")
    assert spec.peak_flops("fp32") == pytest.approx(0.2e12) and spec.bandwidth_gbs == 20.0
    # peak spread (0.2 - 0.1) / 0.15 = 67%: busy; bandwidth 0.1 / 19.95 = 0.5%: quiet
    assert len(spec.warnings) == 1 and "matmul peak" in spec.warnings[0]
    summary = spec.summary("fp32")
    assert summary["peak_spread"] == pytest.approx(0.1 / 0.15) and summary["threads"] == 2
    assert summary["bandwidth_spread"] == pytest.approx(0.1 / 19.95) and summary["warnings"]


def test_get_spec_passes_threads_and_progress_to_the_benchmarks(monkeypatch):
    import intensity.hardware.resolve as resolve

    seen = {}
    monkeypatch.setattr(resolve, "measured_spec", lambda *a, **k: seen.update(k) or get_spec("v100"))
    marker = lambda *a: None  # noqa: E731
    get_spec("cpu", "fp32", threads=1, progress=marker)
    assert seen["threads"] == 1 and seen["progress"] is marker
