"""The HTML report and report.json for a zoo model and a timm model."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from intensity.cli import app
from intensity.report.html import write_report

KEYS = {"model", "batch", "dtype", "device", "fusion", "totals", "kernels", "uncounted", "waterline",
        "bottlenecks", "batch_sweep", "advice", "measured", "figures"}


@pytest.mark.parametrize("model", ["noscope-coral", "timm:resnet18"])
def test_report_renders_with_documented_keys(model, tmp_path):
    summary = write_report(model, tmp_path, device="h100", dtype="bf16", batch=64)
    data = json.loads((tmp_path / "report.json").read_text())
    assert KEYS <= set(data) and data["model"] == model
    assert {"latency", "efficiency", "mediant_latency"} <= set(data["waterline"])
    page = (tmp_path / "report.html").read_text()
    assert "<h2>Kernels</h2>" in page and "data:image/png;base64," in page and "http" not in page
    for paths in summary["figures"].values():
        assert all((tmp_path / "figures").joinpath(p.split("/")[-1]).stat().st_size > 0 for p in paths.values())


def test_batch_limited_advice_for_a_specialized_cnn(tmp_path):
    summary = write_report("noscope-coral", tmp_path, device="v100", dtype="fp16", batch=1024)
    assert any(note.startswith("Batch-limited") for note in summary["advice"])
    assert any("below op:byte" in note for note in summary["advice"])


def test_report_command_with_measurement(tmp_path):
    result = CliRunner().invoke(app, ["report", "noscope-coral", "--device", "t4", "-b", "32", "--measure",
                                      "--measure-batch", "4", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["measured"]["images_per_s"] > 0 and "efficiency_gap" in data["figures"]
