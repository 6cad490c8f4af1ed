"""The command line: output formats and one-line errors with exit code 2."""
from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from intensity.cli import app

runner = CliRunner()


def test_analyze_table_shows_kernels_and_totals():
    result = runner.invoke(app, ["analyze", "noscope-coral", "--batch", "1024", "--dtype", "fp16",
                                 "--device", "v100"])
    assert result.exit_code == 0, result.output
    assert "conv standard 3x3 +relu" in result.stdout and "mediant intensity" in result.stdout
    assert "138.89" in result.stdout  # V100 fp16 op:byte


def test_analyze_json_to_file(tmp_path):
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["analyze", "noscope-coral", "-b", "8", "--format", "json",
                                 "--out", str(out), "--fusion", "none", "--only", "conv,linear"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["batch"] == 8 and data["fusion"] == "none" and data["only"] == ["conv", "linear"]
    assert [k["op"] for k in data["kernels"]] == ["conv", "conv", "linear", "linear"]


def test_analyze_amp_counts_the_autocast_casts_and_says_so():
    plain = runner.invoke(app, ["analyze", "noscope-coral", "--dtype", "fp16", "--format", "json", "--fusion", "none"])
    amp = runner.invoke(app, ["analyze", "noscope-coral", "--dtype", "fp16", "--format", "json", "--fusion", "none",
                              "--amp"])
    assert plain.exit_code == 0 and amp.exit_code == 0, amp.output
    plain_data, amp_data = json.loads(plain.stdout), json.loads(amp.stdout)
    assert amp_data["amp"] is True and plain_data["amp"] is False
    assert "copy" in [k["op"] for k in amp_data["kernels"]] and "copy" not in [k["op"] for k in plain_data["kernels"]]
    assert amp_data["totals"]["flops"] == plain_data["totals"]["flops"]  # casts add bytes, not flops
    table = runner.invoke(app, ["roofline", "noscope-coral", "--dtype", "fp16", "--device", "rtx4090", "--amp"])
    assert table.exit_code == 0 and "under autocast (--amp)" in table.stdout


def test_analyze_csv_has_a_row_per_kernel():
    result = runner.invoke(app, ["analyze", "noscope-coral", "--format", "csv"])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("name,op,detail") and len(lines) == 1 + 5


@pytest.mark.parametrize(("args", "message"), [
    (["analyze", "noscope-corl"], "did you mean 'noscope-coral'"),
    (["analyze", "noscope-coral", "--input", "3by50"], "malformed input shape"),
    (["analyze", "noscope-coral", "--batch", "0"], "'--batch' / '-b': Input should be greater than or equal to 1"),
    (["analyze", "noscope-coral", "--dtype", "fp12"], "unknown dtype 'fp12'"),
    (["analyze", "noscope-coral", "--device", "k80"], "unknown device 'k80'"),
    (["analyze", "noscope-coral", "--input", "1x50x50"], "the model raised on an input of shape (1, 1, 50, 50)"),
    (["analyze", "noscope-coral", "--format", "xml"], "'xml' is not one of 'table', 'json', 'csv'"),
])
def test_bad_input_is_one_line_and_exit_code_2(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_devices_and_list_models():
    devices = runner.invoke(app, ["devices"])
    assert devices.exit_code == 0 and "tpuv1" in devices.stdout and "3,350" in devices.stdout
    models = runner.invoke(app, ["list-models", "noscope-*", "--format", "json"])
    rows = json.loads(models.stdout)["models"]
    assert [r["name"] for r in rows] == ["noscope-coral", "noscope-night", "noscope-roundabout",
                                         "noscope-taipei"]
    assert all(r["flops"] > 0 and r["params"] > 0 for r in rows)


def test_roofline_and_sweep_batch_commands():
    result = runner.invoke(app, ["roofline", "noscope-coral", "--device", "v100", "-b", "1024"])
    assert result.exit_code == 0, result.output
    assert "maximum computational efficiency (Eqn 13)" in result.stdout
    sweep = runner.invoke(app, ["sweep-batch", "noscope-coral", "--device", "t4",
                                "--batches", "1,64", "--format", "json"])
    points = json.loads(sweep.stdout)["points"]
    assert [p["batch"] for p in points] == [1, 64] and points[1]["intensity"] > points[0]["intensity"]
    bad = runner.invoke(app, ["sweep-batch", "noscope-coral", "--device", "t4", "--batches", "0,x"])
    assert bad.exit_code == 2 and "malformed --batches" in bad.stderr


def test_measure_and_gap_commands_on_cpu():
    result = runner.invoke(app, ["measure", "noscope-coral", "-b", "4", "--iters", "1", "--trials", "1",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)["records"]
    # on a busy machine the micro-benchmarked peak can come out below what the model reached:
    # then the record must say so, never report a utilization above 1 silently
    above = record["utilization"] > 1
    assert record["images_per_s"] > 0 and record["utilization"] > 0
    assert above == any("above 100%" in w for w in record.get("warnings") or ())
    assert record["efficiency"] == pytest.approx(record["utilization"])
    mismatch = runner.invoke(app, ["gap", "noscope-coral", "noscope-night", "--accuracy", "0.9"])
    assert mismatch.exit_code == 2 and "--accuracy has 1 values for 2 models" in mismatch.stderr


def test_largest_batch_and_energy_note():
    result = runner.invoke(app, ["largest-batch", "noscope-coral", "--dtype", "fp32", "--memory-gb", "0.064",
                                 "--limit", "4096", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["largest_batch"] == (64_000_000 - 1_283_874 * 4) // (2 * 16 * 2500 * 4)
    if not torch.cuda.is_available():
        measured = runner.invoke(app, ["measure", "noscope-coral", "-b", "2", "--iters", "1", "--trials", "1",
                                       "--energy"])
        assert measured.exit_code == 0 and "energy unavailable on this device" in measured.stderr


def test_waterline_command():
    result = runner.invoke(app, ["waterline", "noscope-coral", "--device", "v100", "--op-bytes", "10,139,1000",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    # the device's own op:byte (V100 fp16: 125 TFLOP/s / 900 GB/s = 138.9) joins the list, marked
    assert [r["op_byte"] for r in rows] == [10, 125e12 / 900e9, 139, 1000]
    assert [r["device"] for r in rows] == [None, "v100", None, None]
    assert all(r["waterline"] <= r["mediant"] + 1e-12 for r in rows)


def test_folding_commands():
    cascade = runner.invoke(app, ["cascade", "--speedup", "2.5", "--accuracy-drop", "0.0021", "--relative-cost", "83"])
    assert cascade.exit_code == 0 and "285.7x" in cascade.stdout and "gets faster" in cascade.stdout
    fold = runner.invoke(app, ["fold", "noscope-coral", "-f", "4", "-b", "64", "--format", "json"])
    (prediction,) = json.loads(fold.stdout)["predictions"]
    assert prediction["f"] == 4 and [layer["widths_after"] for layer in prediction["layers"]] == [
        [12, 32], [32, 32], [20000, 256], [256, 8]]
    bench = runner.invoke(app, ["bench-fold", "noscope-coral", "-f", "2", "-b", "4", "--iters", "1", "--trials", "1",
                                "--format", "json"])
    assert bench.exit_code == 0 and [r["f"] for r in json.loads(bench.stdout)["results"]] == [1, 2]
    # no --dtype / --device given: fp32 on the measured peak, labelled as defaults, not as given
    assert {k: json.loads(bench.stdout)[k] for k in ("dtype", "dtype_from", "device", "device_from")} == {
        "dtype": "fp32", "dtype_from": "built-in", "device": "measured", "device_from": "built-in"}
    scale = runner.invoke(app, ["scale", "noscope-coral", "-b", "8"])
    assert scale.exit_code == 0 and "3x43x43" in scale.stdout
    bad = runner.invoke(app, ["cascade", "--speedup", "0", "--accuracy-drop", "0.01"])
    assert bad.exit_code == 2 and "--speedup 0" in bad.stderr


def test_progress_off_a_terminal_is_an_occasional_line(monkeypatch):
    from intensity.cli import _app

    clock = iter([0.0, 1.0, 6.0, 7.0, 13.0])
    monkeypatch.setattr(_app.time, "monotonic", lambda: next(clock))
    lines = []
    monkeypatch.setattr(_app.typer, "echo", lambda text, err=False: lines.append(text))
    report = _app._line_progress("sweep")  # starts at t = 0
    for step in range(1, 5):  # t = 1 (quiet), 6 (prints), 7 (quiet), 13 (prints)
        report("points", step, None if step == 4 else 4)
    assert lines == ["progress: sweep: points 2/4", "progress: sweep: points 4/?"]
