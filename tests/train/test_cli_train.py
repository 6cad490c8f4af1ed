from typer.testing import CliRunner

from intensity.cli import app


def test_make_dataset_then_refuse_to_overwrite(tmp_path):
    out = tmp_path / "ds"
    first = CliRunner().invoke(app, ["make-dataset", "game-apex-count", "--per-class", "1", "--out", str(out)])
    assert first.exit_code == 0 and "22 classes" in first.output
    again = CliRunner().invoke(app, ["make-dataset", "game-apex-count", "--per-class", "1", "--out", str(out)])
    assert again.exit_code == 2 and "not an empty directory" in again.output


def test_comm_model_json():
    import json

    result = CliRunner().invoke(app, ["comm-model", "noscope-coral", "--workers", "1,2", "--format", "json"])
    rows = json.loads(result.output)
    assert result.exit_code == 0 and [r["workers"] for r in rows] == [1, 1, 1, 2, 2, 2]
