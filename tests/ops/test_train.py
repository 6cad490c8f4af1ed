"""The data and training operations lose nothing (issue 19): two trainings into one run directory,
an --out onto the data, the teacher or a checkpoint, and a failed make-dataset."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from intensity.cli import app
from intensity.ops import train as tr
from intensity.output import locked

runner = CliRunner()
TRAIN = ("train", "game-lol-gold1", "--data", "generated:game-lol-gold1", "--epochs", "1", "--per-class", "2")


def run(*args: object):  # noqa: ANN201
    return runner.invoke(app, [str(a) for a in args])


def test_a_second_training_into_the_same_run_directory_gets_a_clear_error(tmp_path):
    out = tmp_path / "run"
    with locked(out, "run directory"):  # a training in progress holds its run directory
        result = run(*TRAIN, "--out", out)
    assert result.exit_code == 2 and "run directory" in result.stderr, result.output
    assert "is being written by another process" in result.stderr and not out.exists()


def test_train_refuses_a_run_directory_that_is_or_holds_an_input(tmp_path):
    data = tmp_path / "data"
    assert run("make-dataset", "game-apex-count", "--per-class", "1", "--out", data).exit_code == 0
    before = sorted(p.name for p in data.rglob("*"))
    for out in (data, data / "run"):
        result = run("train", "game-apex-count", "--data", data, "--out", out, "--epochs", "1")
        assert result.exit_code == 2 and "is an input of this command" in result.stderr, result.output
    teacher = tmp_path / "teacher" / "last.pt"
    teacher.parent.mkdir()
    teacher.write_bytes(b"weights")
    result = run(*TRAIN, "--out", teacher.parent, "--teacher", teacher, "--resume")
    assert result.exit_code == 2 and "holds" in result.stderr and teacher.read_bytes() == b"weights"
    assert sorted(p.name for p in data.rglob("*")) == before


def test_train_prints_its_epochs_in_every_format(tmp_path):
    result = run(*TRAIN, "--out", tmp_path / "run", "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert [e["epoch"] for e in record["epochs"]] == [1] and record["checkpoint"].endswith("last.pt")
    assert record["dtype"] == "fp32" and 0 <= record["test_acc"] <= 1


def test_a_failed_make_dataset_leaves_nothing(tmp_path, monkeypatch):
    from intensity.data import folders

    def fails_halfway(parts, out, manifest):  # noqa: ANN001, ANN202, ARG001
        (out / "train").mkdir(parents=True)
        (out / "train" / "0000000.png").write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(folders, "write_image_folder", fails_halfway)
    result = run("make-dataset", "game-apex-count", "--per-class", "1", "--out", tmp_path / "ds")
    assert result.exit_code == 2 and "No space left" in result.stderr, result.output
    assert list(tmp_path.iterdir()) == []  # no dataset, no partial folder, no lock file


def test_make_dataset_into_a_locked_or_empty_directory(tmp_path):
    out = tmp_path / "ds"
    with locked(out, "dataset directory"):
        result = run("make-dataset", "game-apex-count", "--per-class", "1", "--out", out)
    assert result.exit_code == 2 and "is being written by another process" in result.stderr
    out.mkdir()  # an empty directory is filled
    made = tr.run_make_dataset("game-apex-count", out, per_class=1)
    assert made.images == 22 + 2 * 22 and (out / "manifest.json").is_file()
    assert {r["split"] for r in made.to_rows()} == {"train", "val", "test"}


def test_evaluate_out_onto_a_checkpoint_or_its_data_is_refused(tmp_path):
    checkpoint = tmp_path / "last.pt"
    checkpoint.write_bytes(b"weights")
    result = run("evaluate", checkpoint, "--data", "generated:game-lol-gold1", "--out", checkpoint)
    assert result.exit_code == 2 and "is an input of this command" in result.stderr, result.output
    assert checkpoint.read_bytes() == b"weights"
    with pytest.raises(ValueError, match="`runs` is empty"):
        tr.run_evaluate([], "generated:game-lol-gold1")


@pytest.mark.parametrize(("spec", "files"), [("generated:game-lol-gold1", []), ("cifar10:/d", ["/d"]),
                                             ("video:/v.mp4,/l.csv", ["/v.mp4", "/l.csv"]), ("/imgs", ["/imgs"])])
def test_data_files_names_what_a_data_spec_reads(spec, files):
    assert tr.data_files(spec) == files
