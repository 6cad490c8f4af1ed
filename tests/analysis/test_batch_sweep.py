"""The batch sweep: the bound is always the roofline's waterline, the estimate says whose it is, and
progress is heard per batch (sweep-batch gave the calibrated time as the bound and never named the
estimate's runtime or profile)."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from intensity.analysis.batch_sweep import estimate_label, stopped_note, sweep_batch
from intensity.analysis.predict import predict
from intensity.cli import app
from intensity.hardware.calibration import save, spec_from_calibration

from tests.analysis.test_calibrated import narrow_calibration


def test_the_estimate_names_its_runtime_and_profile():
    points = sweep_batch("noscope-coral", [1, 64], device="rtx4090", runtime="compiled")
    assert {(p.estimate_runtime, p.estimate_profile) for p in points} == {("compiled", "rtx4090")}
    assert estimate_label(points) == "estimate: what compiled PyTorch will likely measure (rtx4090 profile)"
    assert all(p.latency <= 1 / p.estimated_throughput * p.batch for p in points)  # never faster than the bound


def test_on_a_calibrated_device_the_bound_is_the_roofline_and_the_calibration_the_estimate():
    spec = spec_from_calibration(narrow_calibration())
    point = sweep_batch("noscope-coral", [8], device=spec, dtype="fp32")[0]
    p = predict("noscope-coral", device=spec, dtype="fp32", batch=8)
    assert point.latency == pytest.approx(p.roofline.latency)  # the bound, not the calibrated time
    assert point.estimated_throughput == pytest.approx(8 / p.line.latency) and p.line.latency > p.roofline.latency
    assert estimate_label([point]) == "estimate: what eager PyTorch will likely measure (calibrated on this machine)"


def test_a_cpu_device_has_no_estimate_and_no_label():
    points = sweep_batch("noscope-coral", [1], device="cpu", dtype="fp32")
    assert points[0].estimated_throughput is None and estimate_label(points) == ""


def test_progress_hears_each_batch():
    heard = []
    sweep_batch("noscope-coral", [1, 2, 4], device="v100", progress=lambda *a: heard.append(a))
    assert heard == [("batch sweep", i, 3) for i in range(4)]


def test_sweep_batch_json_and_table_label_bound_and_estimate(tmp_path):
    out = tmp_path / "s.json"
    result = CliRunner().invoke(app, ["sweep-batch", "noscope-coral", "--device", "t4", "--batches", "1,8",
                                      "--runtime", "compiled", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["bound"].startswith("bound: roofline/waterline")
    assert data["estimate"] == "estimate: what compiled PyTorch will likely measure (t4 (datasheet) profile)"
    assert data["points"][0]["estimate_runtime"] == "compiled"
    path = save(narrow_calibration(), tmp_path / "c.json")
    table = CliRunner().invoke(app, ["sweep-batch", "noscope-coral", "--device", f"calibrated:{path}",
                                     "--dtype", "fp32", "--batches", "8"])
    assert table.exit_code == 0, table.output
    assert "(calibrated on this machine)" in " ".join(table.stdout.split())


def test_a_sweep_until_too_large_ends_at_the_first_batch_that_cannot_be_counted(monkeypatch):
    import sys

    from torch import nn

    from intensity.cost import memory_guard
    from intensity.errors import TooLargeError

    if not sys.platform.startswith("linux"):
        pytest.skip("the memory guard reads /proc")

    class DataDependent(nn.Module):  # counted on real tensors, whose memory grows with the batch
        def forward(self, x):
            return x * 2 if x.sum() > -1e30 else x

    monkeypatch.setattr(memory_guard, "_available_bytes", lambda: 1_000_000_000)  # share: 800 MB
    # batch 10**7 of 3x8x8 fp32 inputs is 7.7 GB: refused before it is allocated
    points = sweep_batch(DataDependent(), [1, 10**7, 2], device="t4", input_shape=(3, 8, 8), until_too_large=True)
    assert [p.batch for p in points] == [1]
    assert stopped_note(points, [1, 10**7, 2]).startswith("the batch sweep ends at batch 1: counting batch 10000000")
    with pytest.raises(TooLargeError, match="which alone takes 7.68 GB"):
        sweep_batch(DataDependent(), [1, 10**7], device="t4", input_shape=(3, 8, 8))
    from intensity.ops import ModelRequest
    from intensity.ops.analysis import run_sweep_batch

    result = run_sweep_batch(ModelRequest(DataDependent(), input_shape=(3, 8, 8), device="t4"), [1, 10**7])
    assert len(result.points) == 1 and result.notes[-1].startswith("the batch sweep ends at batch 1")
