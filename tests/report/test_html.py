"""The HTML report and report.json: keys, labels, device/dtype statements, paths, and --out errors."""
from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from intensity.cli import app
from intensity.report.html import measurement_record, prepare_directory, write_report

from .conftest import make_measurement

KEYS = {"model", "batch", "dtype", "device", "fusion", "totals", "kernels", "uncounted", "waterline",
        "bottlenecks", "batch_sweep", "advice", "measured", "figures"}


@pytest.fixture(scope="module")
def coral(tmp_path_factory):
    """noscope-coral on v100 fp16 at batch 1024, next to a CPU fp32 measurement at batch 8."""
    directory = tmp_path_factory.mktemp("coral")
    summary = write_report("noscope-coral", directory, device="v100", dtype="fp16", batch=1024,
                           measure=make_measurement(accuracy=0.9))
    return directory, summary, (directory / "report.html").read_text()


def test_report_json_keys_and_relative_figure_paths(coral):
    directory, summary, _ = coral
    data = json.loads((directory / "report.json").read_text())
    assert KEYS <= set(data) and data["model"] == "noscope-coral"
    assert {"latency", "efficiency", "mediant_latency"} <= set(data["waterline"])
    assert data["figures"]["roofline"] == {"png": "figures/roofline.png", "svg": "figures/roofline.svg"}
    for paths in data["figures"].values():
        assert all((directory / p).stat().st_size > 0 for p in paths.values())


def test_page_is_self_contained_and_labelled(coral):
    _, _, page = coral
    assert "data:image/png;base64," in page and "http://" not in page and "https://" not in page
    for label in ("GFLOP", "MB", "intensity (flop/B)", "min latency (ms)", "time (%)", "How to read this"):
        assert label in page
    assert not re.search(r">\s*NaN\s*<|>\s*nan\s*<", page)
    assert "<code>0 conv</code>" in page  # kernels by module path (a Sequential's index + op)
    assert "None: every op was counted." in page


def test_every_section_says_what_it_is_for(coral):
    _, _, page = coral
    assert "Roofline (NVIDIA V100 SXM2, fp16, batch 1024)" in page
    assert "Measured on this machine (cpu, fp32, batch 8)" in page
    # The CPU fp32 measurement next to a V100 fp16 prediction is flagged, naming all three differences.
    warning = re.search(r'<p class="warn">(.*?)</p>', page).group(1)
    assert "device (cpu here vs NVIDIA V100 SXM2 predicted)" in warning
    assert "dtype (fp32 vs fp16)" in warning and "batch (8 vs 1024)" in warning


def test_gap_figure_only_with_an_accuracy(coral, tmp_path):
    assert "efficiency_gap" in coral[1]["figures"]
    summary = write_report("noscope-coral", tmp_path, device="v100", batch=16,
                           measure=make_measurement().to_dict())
    assert "efficiency_gap" not in summary["figures"] and summary["measured"]["images_per_s"] == 100.0
    assert "No efficiency-gap figure" in (tmp_path / "report.html").read_text()


def test_uncounted_ops_are_shown(tmp_path):
    from .conftest import TwoKernels

    write_report(TwoKernels(), tmp_path, device="v100", dtype="fp32", batch=2, input_shape=(3, 8, 8))
    page = (tmp_path / "report.html").read_text()
    assert "Uncounted ops" in page and "<td class=\"text\">sort</td>" in page


def test_batch_limited_advice_for_a_specialized_cnn(coral):
    advice = coral[1]["advice"]
    assert any(note.startswith("Batch-limited") for note in advice)
    assert any("below op:byte" in note for note in advice)


def test_out_onto_a_file_is_a_clear_error_and_loses_nothing(tmp_path):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    with pytest.raises(ValueError, match=r"`out` .*notes\.txt is a file; give a directory"):
        write_report("noscope-coral", existing)
    with pytest.raises(ValueError, match=r"notes\.txt is a file"):
        write_report("noscope-coral", existing / "report")
    assert existing.read_text() == "keep me"


def test_out_unwritable_is_a_clear_error():
    with pytest.raises(ValueError, match="`out` /proc/intensity-report is a device or kernel file"):
        write_report("noscope-coral", "/proc/intensity-report")


def test_existing_directory_keeps_its_other_files(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    assert prepare_directory(tmp_path) == tmp_path
    write_report("noscope-coral", tmp_path, device="t4", batch=4)
    assert (tmp_path / "mine.txt").read_text() == "keep me" and (tmp_path / "report.html").exists()


def test_measurement_record_accepts_the_dataclass_and_names_missing_fields():
    measurement = make_measurement()
    assert measurement_record(measurement) == measurement.to_dict()
    with pytest.raises(ValueError, match="lacks .*images_per_s"):
        measurement_record({"model": "m"})
    with pytest.raises(ValueError, match="Measurement"):
        measurement_record(42)


def test_report_command_with_measurement(tmp_path):
    result = CliRunner().invoke(app, ["report", "noscope-coral", "--device", "t4", "-b", "32", "--measure",
                                      "--measure-batch", "4", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["measured"]["images_per_s"] > 0 and "efficiency_gap" not in data["figures"]


def test_a_batch_sweep_ended_by_memory_is_said_in_the_notes(tmp_path, monkeypatch):
    import intensity.report.html as html

    real_sweep = html.sweep_batch

    def sweep_until_64(model, batches, **options):  # as a detection model's real-tensor sweep ends
        assert options.pop("until_too_large") is True
        return real_sweep(model, [b for b in batches if b <= 64], **options)

    monkeypatch.setattr(html, "sweep_batch", sweep_until_64)
    summary = write_report("noscope-coral", tmp_path / "r", device="t4", batch=8)
    assert [p["batch"] for p in summary["batch_sweep"]] == [1, 4, 16, 64]
    assert summary["notes"][-1].startswith("the batch sweep ends at batch 64: counting batch 256 would need more")
