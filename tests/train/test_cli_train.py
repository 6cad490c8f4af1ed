import pytest
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
    rows = json.loads(result.stdout)["rows"]
    assert result.exit_code == 0 and [r["workers"] for r in rows] == [1, 1, 1, 2, 2, 2]


def test_comm_model_negative_bandwidth_names_the_flag_and_value():
    result = CliRunner().invoke(app, ["comm-model", "noscope-coral", "--bandwidth-gbs", "-5"])
    assert result.exit_code == 2
    assert "--bandwidth-gbs must be a positive number of GB/s, got -5;" in result.output
    assert "e+09" not in result.output and "5000000000" not in result.output


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--lr", "-1", "--lr must be a positive learning rate, got -1"),
    ("--lr", "nan", "--lr must be a positive learning rate, got nan"),
    ("--temperature", "0", "--temperature must be > 0, got 0"),
    ("--weight", "1.5", "--weight must be between 0 and 1"),
    ("--weight", "-0.1", "--weight must be between 0 and 1"),
])
def test_train_bad_numbers_fail_up_front(tmp_path, option, value, message):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "noscope-coral", "--data", "generated:noscope-coral",
                                      "--out", str(out), option, value])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Invalid learning rate" not in result.output and not out.exists()  # nothing created


def test_train_that_diverges_stops_with_one_line(tmp_path):
    result = CliRunner().invoke(app, ["train", "game-lol-gold1", "--data", "generated:game-lol-gold1", "--out",
                                      str(tmp_path / "run"), "--per-class", "2", "-b", "8", "--epochs", "2",
                                      "--lr", "1e6", "--preset", "seed"])  # constant lr: no warm-up
    assert result.exit_code == 2 and "training diverged: the loss became nan" in result.stderr
    assert "lower --lr" in result.stderr and not (tmp_path / "run" / "last.pt").exists()


def test_resume_with_nothing_to_train_prints_no_old_epochs(tmp_path):
    base = ["train", "game-lol-gold1", "--data", "generated:game-lol-gold1", "--out", str(tmp_path / "run"),
            "--per-class", "2", "-b", "8"]
    assert CliRunner().invoke(app, [*base, "--epochs", "2"]).exit_code == 0
    again = CliRunner().invoke(app, [*base, "--epochs", "1", "--resume"])
    assert again.exit_code == 0 and "epoch 1:" not in again.stdout and "epoch 2:" not in again.stdout
    assert "note: nothing to train" in again.stderr and "--epochs 3 or more" in again.stderr
