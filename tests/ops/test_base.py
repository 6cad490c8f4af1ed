"""The shared request: defaults with their sources, the settings line, the files it reads."""
from __future__ import annotations

import pytest

from intensity.ops import GIVEN, ModelRequest, Settings, resolve_spec


@pytest.fixture(autouse=True)
def built_in_defaults(monkeypatch, tmp_path):
    for name in ("INTENSITY_DTYPE", "INTENSITY_DEVICE", "INTENSITY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_defaults_fill_what_was_not_given_and_say_where_from(monkeypatch):
    request = ModelRequest("noscope-coral")
    assert (request.dtype, request.device, request.dtype_from, request.device_from) == ("fp16", "h100", "built-in",
                                                                                       "built-in")
    monkeypatch.setenv("INTENSITY_DTYPE", "bf16")
    given = ModelRequest("noscope-coral", device="v100")
    assert (given.dtype, given.dtype_from, given.device_from) == ("bf16", "INTENSITY_DTYPE", GIVEN)


def test_a_copy_keeps_where_the_defaults_came_from():
    request = ModelRequest("noscope-coral").but(batch=8)
    assert request.batch == 8 and request.dtype_from == "built-in"


def test_the_settings_line():
    assert Settings("fp16", "h100", "built-in", "built-in").line() == (
        "dtype fp16 (built-in default), device h100 (built-in default)")
    assert Settings("fp32", "v100").line() == "dtype fp32, device v100"
    assert Settings("bf16", "t4", "INTENSITY_DTYPE").line() == "dtype bf16 (default from INTENSITY_DTYPE), device t4"


def test_input_files_are_the_spec_calibration_and_model_files(tmp_path):
    spec = tmp_path / "mine.toml"
    assert ModelRequest("nets/my.py:build", device=str(spec)).input_files() == [str(spec), "nets/my.py"]
    assert ModelRequest("noscope-coral", device="calibrated:cal.json").input_files() == ["cal.json"]
    assert ModelRequest("noscope-coral", device="v100").input_files() == []


def test_resolve_spec_applies_overrides_and_checks_the_dtype():
    request, warnings = resolve_spec(ModelRequest("m", dtype="fp16", device="v100", peak_tflops=10, bandwidth_gbs=100))
    assert request.device.op_byte("fp16") == pytest.approx(100)  # 10e12 / 100e9
    assert request.peak_tflops is None and warnings == []
    with pytest.raises(ValueError, match="no published fp32 peak"):
        resolve_spec(ModelRequest("m", dtype="fp32", device="tpuv1"))


def test_blocks_given_as_one_string_are_split_on_commas_not_into_letters():
    from intensity.ops import ModelRequest
    assert ModelRequest("noscope-coral", blocks="Conv2d, Linear").blocks == ("Conv2d", "Linear")


def test_requests_that_time_models_share_one_definition_of_the_timing_options():
    from dataclasses import fields

    from intensity.ops import TimingOptions
    from intensity.ops.fold import BenchFoldRequest
    from intensity.ops.measure import MeasureRequest

    timing = {f.name for f in fields(TimingOptions)}
    assert timing == {"on", "iters", "trials", "channels_last", "compile", "threads"}
    for request in (MeasureRequest, BenchFoldRequest):
        assert issubclass(request, TimingOptions) and timing <= {f.name for f in fields(request)}
        assert not timing & set(vars(request).get("__annotations__", {}))  # none declared again
    bench = BenchFoldRequest(ModelRequest("noscope-coral"), (2,), iters=1)  # positional fields kept
    assert (bench.factors, bench.iters, bench.trials, bench.on) == ((2,), 1, 3, "cpu")
    assert MeasureRequest(ModelRequest("noscope-coral"), 0.9).accuracy == 0.9
