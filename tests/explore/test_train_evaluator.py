"""The train evaluator: each point of a space trained briefly on the user's data (issue 9's trainer)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from intensity.cli import app
from intensity.explore.evaluators import TrainSettings, make_evaluator
from intensity.explore.spaces import make_space


def _colour_folders(root, per_class=3):
    """10 classes (the NATS space's), class k = a flat grey of level 20k: learnable in an epoch."""
    for split in ("train", "val", "test"):
        for k in range(10):
            folder = root / split / f"c{k}"
            folder.mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(np.full((32, 32, 3), 20 * k + i, np.uint8)).save(folder / f"{i}.png")
    return str(root)


@pytest.mark.slow  # trains several points (~7 s of CPU); test_sweep_cli_with_the_train_evaluator stays quick
def test_points_are_trained_and_runs_are_reused(tmp_path):
    space = make_space("nats-size")
    data = _colour_folders(tmp_path / "data")
    judge = make_evaluator("train", space, train=TrainSettings(data, epochs=1), runs=tmp_path / "runs")
    first = judge.evaluate(["8:8:8:8:8", "8:8:8:8:16"])
    assert set(first) == {"8:8:8:8:8", "8:8:8:8:16"} and all(0 <= a <= 100 for a in first.values())
    runs = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]  # beside each: its trainer's .lock file
    assert len(runs) == 2  # one run directory per point
    # a rerun (a resumed sweep) reuses the finished run: the same accuracy, no new directory
    assert judge.evaluate(["8:8:8:8:8"]) == {"8:8:8:8:8": first["8:8:8:8:8"]}
    assert "epochs=1" in judge.name and "lr=0.001" in judge.name


def test_sweep_cli_with_the_train_evaluator(tmp_path):
    data = _colour_folders(tmp_path / "data")
    store = tmp_path / "r.db"
    result = CliRunner().invoke(app, ["sweep", "nats-size", "--device", "a100-40gb", "--store", str(store),
                                      "--points", "0", "--evaluator", "train", "--data", data, "--epochs", "1"])
    assert result.exit_code == 0, result.output
    rows = json.loads(CliRunner().invoke(app, ["results", str(store), "--format", "json"]).stdout)["rows"]
    assert len(rows) == 1 and 0 <= rows[0]["accuracy"] <= 100 and rows[0]["evaluator"].startswith("analytic+train:")
    assert (tmp_path / "r.db.runs").is_dir()
