"""measure_model: the Measurement record, its spread/threads/warnings, and its progress stages."""
from __future__ import annotations

import dataclasses
import json

import pytest

import intensity.hardware.resolve as resolve
import intensity.measure.throughput as throughput
from intensity.hardware import get_spec
from intensity.measure.measurement import measure_model


def test_record_carries_spread_threads_and_utilization_equal_to_efficiency():
    calls = []
    result = measure_model("noscope-coral", batch=2, iters=1, trials=2, device="v100", threads=1,
                           progress=lambda *a: calls.append(a))
    record = result.to_dict()
    assert record["threads"] == 1 and len(record["trial_images_per_s"]) == 2
    assert record["spread"] >= 0 and isinstance(record["busy"], bool)
    assert record["utilization"] == record["efficiency"] > 0  # one quantity, two names
    assert record["peak_tflops"] == 15.7  # v100 fp32
    json.dumps(record)  # the CLI writes it as JSON
    stages = list(dict.fromkeys(description for description, _, _ in calls))
    assert stages == ["building noscope-coral", "counting flops of noscope-coral", "timing batch 2 on cpu"]
    assert calls[-1] == ("timing batch 2 on cpu", 5, 5)  # 3 warm-up + 2 trials x 1 batch


def test_busy_timing_and_busy_peak_benchmark_both_become_warnings(monkeypatch):
    busy_spec = dataclasses.replace(get_spec("v100"), key="cpu", warnings=("cpu fp32 matmul peak: busy",))
    monkeypatch.setattr(resolve, "measured_spec", lambda *a, **k: busy_spec)
    # warm-up 1 s, then trials of 0.1 and 0.2 s: rates 2 / 0.1 = 20 and 10 img/s, spread 10 / 15 = 67%
    queue = [1.0, 0.1, 0.2]
    monkeypatch.setattr(throughput, "_timed_run", lambda *a: queue.pop(0))
    result = measure_model("noscope-coral", batch=2, iters=1, trials=2, warmup=1, device="cpu")
    assert result.throughput.spread == pytest.approx(10 / 15)
    assert result.warnings[0] == "cpu fp32 matmul peak: busy" and "spread 67%" in result.warnings[1]
    assert result.to_dict()["warnings"] == list(result.warnings)


def test_bad_arguments_fail_before_any_benchmark(monkeypatch):
    def no_benchmark(*a, **k):
        raise AssertionError("the micro-benchmark ran before the arguments were checked")

    monkeypatch.setattr(resolve, "measured_spec", no_benchmark)
    with pytest.raises(ValueError, match="int8 is for analysis only"):
        measure_model("noscope-coral", dtype="int8", device="measured")
    with pytest.raises(ValueError, match="must be positive"):
        measure_model("noscope-coral", trials=0, device="measured")
