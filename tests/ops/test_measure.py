"""Measurement operations: the CPU's default dtype, accuracies per model, the batch search."""
from __future__ import annotations

import pytest

from intensity.ops import ModelRequest
from intensity.ops import measure


@pytest.fixture(autouse=True)
def built_in_defaults(monkeypatch, tmp_path):
    for name in ("INTENSITY_DTYPE", "INTENSITY_DEVICE", "INTENSITY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_a_defaulted_dtype_is_fp32_on_the_cpu_and_a_note_says_so():
    request = measure.MeasureRequest(ModelRequest("noscope-coral", device="measured"))
    model, notes = measure._measure_dtype(request)
    assert model.dtype == "fp32" and "give --dtype" in notes[0]
    assert model.dtype_from == "built-in"  # JSON and the header said "given", though nobody gave it
    given = measure.MeasureRequest(ModelRequest("noscope-coral", dtype="fp16", device="measured"))
    assert measure._measure_dtype(given) == (given.model, [])


def test_a_defaulted_dtype_is_bf16_under_amp_on_the_cpu():
    request = measure.MeasureRequest(ModelRequest("noscope-coral", device="measured", amp=True))
    model, notes = measure._measure_dtype(request)
    assert (model.dtype, model.dtype_from, model.amp) == ("bf16", "built-in", True) and "autocast at bf16" in notes[0]


def test_amp_measurement_is_recorded_and_titled():
    request = measure.MeasureRequest(ModelRequest("noscope-coral", batch=2, device="measured", dtype="bf16",
                                                  amp=True), iters=1, trials=1, threads=1)
    result = measure.run_measure(request)
    assert result.records[0]["amp"] is True and result.records[0]["dtype"] == "bf16"
    assert result.title == "noscope-coral: batch 2, bf16 autocast on cpu"
    with pytest.raises(ValueError, match="not fp32"):
        measure.run_measure(measure.MeasureRequest(ModelRequest("noscope-coral", dtype="fp32", amp=True)))


def test_gap_needs_one_accuracy_per_model():
    request = measure.MeasureRequest(ModelRequest("noscope-coral", device="measured"))
    with pytest.raises(ValueError, match="`accuracy` has 1 values for 2 models"):
        measure.run_gap(["noscope-coral", "noscope-night"], request, [0.9])


def test_largest_batch_estimate_and_its_cap():
    found = measure.run_largest_batch(ModelRequest("noscope-coral", dtype="fp32"), memory_gb=1e30, limit=64)
    assert found.batch == 64 and "search's cap" in found.notes[0] and found.to_dict()["method"] == "estimate"
    with pytest.raises(ValueError, match="`memory_gb`"):
        measure.run_largest_batch(ModelRequest("noscope-coral"), memory_gb=float("inf"))
