"""The folding operations: typed results (App. G's arithmetic by hand), one default device, and
outputs that never land on an input."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from intensity.cli import app
from intensity.ops import ModelRequest
from intensity.ops import fold as fo

runner = CliRunner()
SPEC = 'key = "mine"\nname = "my accelerator"\nbandwidth_gbs = 900\n[peak_tflops]\nfp16 = 125\nfp32 = 15.7\n'


def test_cascade_break_even_by_hand():
    # App. G: (1 - 1/x) / a = (1 - 1/2.5) / 0.0021 = 0.6 / 0.0021 = 285.71
    result = fo.run_cascade(2.5, 0.0021, 83)
    assert result.break_even == pytest.approx(285.714, abs=1e-3) and result.verdict == "faster"
    assert fo.run_cascade(2.5, 0.0021, 300).verdict == "slower"
    assert fo.run_cascade(2.5, 0.0021).to_dict()["verdict"] is None
    with pytest.raises(ValueError, match="`relative_cost`"):
        fo.run_cascade(2.5, 0.0021, float("inf"))


def test_fold_uses_the_configured_device_and_says_so(monkeypatch):
    monkeypatch.setenv("INTENSITY_DEVICE", "v100")
    monkeypatch.setenv("INTENSITY_DTYPE", "fp16")
    result = fo.run_fold(ModelRequest("noscope-coral", batch=64), [2])
    assert result.settings.device == "v100" and result.settings.device_from == "INTENSITY_DEVICE"
    given = fo.run_fold(ModelRequest("noscope-coral", batch=64, device="v100", dtype="fp16"), [2])
    assert given.to_rows() == result.to_rows()  # the same numbers, however the device was chosen
    with pytest.raises(ValueError, match="integers >= 1"):
        fo.run_fold(ModelRequest("noscope-coral"), [])


def test_scale_rows_and_csv():
    result = fo.run_scale(ModelRequest("noscope-coral", batch=8, device="v100"), -1.0)
    original, scaled = result.to_rows()
    assert original["model"] == "original" and scaled["input_shape"] == [3, 43, 43]
    assert scaled["flops_per_image"] < original["flops_per_image"]
    csv = runner.invoke(app, ["scale", "noscope-coral", "-b", "8", "--device", "v100", "--format", "csv"])
    assert csv.exit_code == 0 and csv.stdout.splitlines()[0].startswith("model,input_shape,batch,params")


def test_out_onto_the_device_spec_is_refused(tmp_path):
    spec = tmp_path / "mine.toml"
    spec.write_text(SPEC)
    for command in (["fold", "noscope-coral", "-f", "2"], ["scale", "noscope-coral"],
                    ["comm-model", "noscope-coral", "--workers", "1"]):
        result = runner.invoke(app, [*command, "--device", str(spec), "--out", str(spec)])
        assert result.exit_code == 2 and "is an input of this command" in result.stderr, result.output
    assert spec.read_text() == SPEC


def test_cascade_prints_table_json_and_writes_out(tmp_path):
    table = runner.invoke(app, ["cascade", "--speedup", "2.5", "--accuracy-drop", "0.0021"])
    assert table.exit_code == 0 and "285.7x" in table.stdout
    out = tmp_path / "cascade.json"
    written = runner.invoke(app, ["cascade", "--speedup", "2.5", "--accuracy-drop", "0.0021", "--format", "json",
                                  "--out", str(out)])
    assert written.exit_code == 0 and json.loads(out.read_text())["break_even"] == pytest.approx(285.714, abs=1e-3)


def test_table_output_starts_with_the_settings_line(monkeypatch):
    """Issue 19: the dtype and device used, and where each came from, on the first line."""
    monkeypatch.setenv("INTENSITY_DEVICE", "v100")
    monkeypatch.delenv("INTENSITY_DTYPE", raising=False)
    monkeypatch.setenv("INTENSITY_CONFIG", "")
    result = runner.invoke(app, ["fold", "noscope-coral", "-f", "2", "-b", "64"])
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert "device v100 (default from INTENSITY_DEVICE)" in first and "dtype fp16" in first


def test_bench_fold_says_when_utilization_is_above_100_percent():
    """ONNX Runtime's kernels outran torch's measured matmul peak here (V1 at 112%): never silent."""
    from types import SimpleNamespace

    from intensity.ops.fold import _above_peak

    rows = [SimpleNamespace(f=1, utilization=0.98), SimpleNamespace(f=4, utilization=1.124)]
    measured = SimpleNamespace(key="measured", benchmarks=("cpu fp32 matmul peak",))
    (warning,) = _above_peak(rows, measured, "onnxruntime")
    assert "112%" in warning and "f = 4" in warning and "onnxruntime" in warning and "--peak-tflops" in warning
    (warning,) = _above_peak(rows, measured, "torch")
    assert "busier" in warning  # torch's own kernels above torch's peak: the peak was taken under load
    (warning,) = _above_peak(rows, SimpleNamespace(key="v100", benchmarks=()), "torch")
    assert "--device" in warning
    assert _above_peak(rows[:1], measured, "onnxruntime") == []


def test_fold_json_labels_the_bound_and_names_the_estimates_runtime_and_profile():
    result = fo.run_fold(ModelRequest("noscope-coral", batch=64, dtype="fp16", device="t4", runtime="compiled"), [2])
    data = result.to_dict()
    assert data["bound"].startswith("bound: roofline/waterline")
    assert data["estimate"] == "estimate: what compiled PyTorch will likely measure (t4 (datasheet) profile)"
    row = data["predictions"][0]
    assert (row["estimate_runtime"], row["estimate_profile"]) == ("compiled", "t4 (datasheet)")
    assert row["estimated_latency_before"] >= row["latency_before"]  # never faster than the bound
    assert "(t4 (datasheet) profile)" in result.grids()[0].caption
