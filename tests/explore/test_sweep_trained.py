"""Trained sweeps on Dask: one task per point, rows committed as points finish, resumable.

Tiny settings: nats-size points of width 8 (~12k parameters), 2 flat-grey images per class and
split (class k = grey level 20k: learnable), 1 epoch, batch 8. Training is seeded, so a point's
weights, accuracy and row are the same wherever it trains, given the same number of torch threads
(Dask's worker processes run with OMP_NUM_THREADS=1; with 2 threads the 1-epoch weights differ by
~5e-4, a different float summation order, so the comparison pins this process to 1 thread too).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from intensity.explore import sweep as sweeping
from intensity.explore.distributed import PointFailed
from intensity.explore.evaluators import TrainEvaluator, TrainSettings, run_folder, train_point
from intensity.explore.spaces import make_space
from intensity.explore.store import Store
from intensity.train import loop

distributed = pytest.importorskip("distributed")
POINTS = ["8:8:8:8:8", "8:8:8:8:16", "8:8:8:16:8"]


def _folders(root, classes=10, shape=(32, 32), per_class=2):  # noqa: ANN001, ANN202
    for split in ("train", "val", "test"):
        for k in range(classes):
            folder = root / split / f"c{k}"
            folder.mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(np.full((*shape, 3), 20 * k + i, np.uint8)).save(folder / f"{i}.png")
    return str(root)


@pytest.fixture(scope="module")
def data(tmp_path_factory):  # noqa: ANN001, ANN201
    return _folders(tmp_path_factory.mktemp("data"))


@pytest.fixture
def one_thread():  # noqa: ANN201
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def threads_cluster():  # noqa: ANN201
    """Two workers in this process (quick to start; monkeypatches reach them)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _judge(space, data, runs):  # noqa: ANN001, ANN202
    return TrainEvaluator(space, TrainSettings(data, epochs=1, lr=0.01, batch=8), runs)


def _sweep(space, path, judge, points=POINTS, **options):  # noqa: ANN001, ANN003, ANN202
    with Store(path, space.key) as store:
        result = sweeping.sweep(space, store, device="a100-40gb", points=points, evaluator=judge,
                                method="trace", **options)
        return result, {(r.point, r.batch): r.metrics for r in store.rows()}


def _weights(runs):  # noqa: ANN001, ANN202
    return {d.name: torch.load(d / "last.pt", weights_only=False)["model"] for d in runs.iterdir() if d.is_dir()}


@pytest.mark.parametrize("cluster", [
    "threads",  # 2 workers in this process: quick
    pytest.param("processes", marks=pytest.mark.slow),  # --workers 2: ~20 s of CPU, over a minute on a busy machine
])
def test_two_workers_train_like_this_process(tmp_path, data, one_thread, threads_cluster, cluster):  # noqa: ARG001
    space = make_space("nats-size")
    on_dask = {"workers": 2} if cluster == "processes" else {"scheduler": threads_cluster}
    here, local = _sweep(space, tmp_path / "here.db", _judge(space, data, tmp_path / "here.runs"), batches=[1, 2])
    there, remote = _sweep(space, tmp_path / "dask.db", _judge(space, data, tmp_path / "dask.runs"),
                           batches=[1, 2], **on_dask)
    assert (here.added, there.added) == (6, 6)  # 3 points x 2 batches, each point trained once
    assert remote == local  # every metric, the accuracies included, bit for bit
    assert all(0 <= m["accuracy"] <= 100 for m in local.values())
    assert there.notes[0] == "trained on cpu (3)"  # no CUDA here: every worker is pinned to the cpu
    mine, theirs = _weights(tmp_path / "here.runs"), _weights(tmp_path / "dask.runs")
    assert mine.keys() == theirs.keys() and len(mine) == 3
    assert all(torch.equal(mine[run][name], theirs[run][name]) for run in mine for name in mine[run])


def test_a_killed_sweep_resumes_without_retraining(tmp_path, data, threads_cluster, monkeypatch):
    space = make_space("nats-size")
    judge = _judge(space, data, tmp_path / "runs")
    # killed after its first row: 8:8:8:8:8 is stored ...
    _sweep(space, tmp_path / "r.db", judge, points=POINTS[:1])
    # ... and 8:8:8:8:16 finished training but was killed before its row was committed
    trained = train_point(judge.job, POINTS[1])
    checkpoints = {p: run_folder(judge.job, space.model_name(p)) / "last.pt" for p in POINTS[:2]}
    before = {p: c.stat().st_mtime_ns for p, c in checkpoints.items()}
    epochs, heard = [], []
    monkeypatch.setattr(loop, "_epoch", _counting(loop._epoch, epochs))
    result, rows = _sweep(space, tmp_path / "r.db", judge, scheduler=threads_cluster,
                          progress=lambda *call: heard.append(call))
    assert (result.added, result.skipped) == (2, 1)
    assert result.notes[:2] == ["trained on cpu (2)", f"1 continued from their checkpoints in {judge.job.runs}"]
    assert [c for c in heard if c[0] == "points trained"] == [("points trained", n, 2) for n in range(3)]
    assert len(epochs) == 1  # only 8:8:8:16:8 was trained; 8:8:8:8:16 was re-tested from its checkpoint
    assert {p: c.stat().st_mtime_ns for p, c in checkpoints.items()} == before
    assert rows[(POINTS[1], 1)]["accuracy"] == trained.accuracy and trained.resumed is False


def test_a_point_killed_before_its_first_checkpoint_starts_afresh(tmp_path, data):
    space = make_space("nats-size")
    job = _judge(space, data, tmp_path / "runs").job
    out = run_folder(job, space.model_name(POINTS[0]))
    out.mkdir(parents=True)
    (out / "last.tmp").write_bytes(b"half a checkpoint")  # killed inside save_checkpoint
    trained = train_point(job, POINTS[0])
    assert not trained.resumed and (out / "last.pt").is_file() and not (out / "last.tmp").exists()
    (out / "last.pt").unlink()
    (out / "notes.txt").write_text("mine")  # not the trainer's: left alone, and said so
    with pytest.raises(ValueError, match=r"holds notes.txt but no last.pt; move them away"):
        train_point(job, POINTS[0])
    assert (out / "notes.txt").read_text() == "mine"


def _counting(function, calls):  # noqa: ANN001, ANN202
    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(args[2])  # the epoch
        return function(*args, **kwargs)
    return counted


def test_a_point_that_fails_is_one_error_and_the_others_are_kept(tmp_path, threads_cluster):
    space = make_space("noscope-coral", grid={"dropout": ["0", "1.5"]})  # Dropout(1.5) cannot be built
    data = _folders(tmp_path / "data", classes=2, shape=(50, 50))
    judge = _judge(space, data, tmp_path / "runs")
    for options in ({"scheduler": threads_cluster}, {}):  # on Dask and in this process alike
        path = tmp_path / f"{len(options)}.db"
        with pytest.raises(PointFailed) as failed:
            _sweep(space, path, judge, points=None, **options)
        message = str(failed.value)
        assert "\n" not in message and message.startswith("1 of 2 points failed to train: dropout=1.5: ParameterError:")
        assert "dropout probability" in message and "1 rows of the others are in" in message
        with Store(path, space.key) as store:
            assert [r.point for r in store.rows()] == ["dropout=0.0"]


def test_the_pinned_device_reaches_the_trainer(tmp_path, data, monkeypatch):
    space = make_space("nats-size")
    judge = _judge(space, data, tmp_path / "runs")
    seen = []

    def trainer(config, progress=None, original=None, **options):  # noqa: ANN001, ANN003, ANN202, ARG001
        seen.append(config.device)
        return loop.TrainResult(config.out, test_acc=0.5)

    monkeypatch.setattr(loop, "train", trainer)
    assert train_point(judge.job, POINTS[0], device="cuda:1").device == "cuda:1"
    # None: the trainer's own default (the GPU when present, else the CPU), named in the result
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert train_point(judge.job, POINTS[0]).device == expected
    assert seen == ["cuda:1", None]


def test_the_sweep_command_trains_on_a_cluster(tmp_path, data, threads_cluster):
    import json

    from typer.testing import CliRunner

    from intensity.cli import app

    store = str(tmp_path / "c.db")
    args = ["sweep", "nats-size", "--device", "a100-40gb", "--store", store, "--points", "0,1",
            "--evaluator", "train", "--data", data, "--epochs", "1", "--scheduler", threads_cluster]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 points added" in result.output and "trained on cpu (2)" in result.output
    rows = json.loads(CliRunner().invoke(app, ["results", store, "--format", "json"]).stdout)["rows"]
    assert {r["point"] for r in rows} == set(POINTS[:2]) and all(0 <= r["accuracy"] <= 100 for r in rows)
    again = CliRunner().invoke(app, args)
    assert "0 points added, 2 already stored" in again.output and "trained on" not in again.output


def test_the_sweep_command_names_failed_points_in_one_line(tmp_path, threads_cluster):
    import re

    from typer.testing import CliRunner

    from intensity.cli import app

    data = _folders(tmp_path / "data", classes=3)  # nats-size has 10 classes: every point fails
    result = CliRunner().invoke(app, [
        "sweep", "nats-size", "--device", "a100-40gb", "--store", str(tmp_path / "f.db"), "--points", "0,1",
        "--evaluator", "train", "--data", data, "--epochs", "1", "--scheduler", threads_cluster])
    errors = [line for line in result.output.splitlines(keepends=True) if not line.startswith(("note:", "progress:"))]
    assert result.exit_code == 2 and len(errors) == 1 and "Traceback" not in result.output, result.output
    assert re.fullmatch(r"error: 2 of 2 points failed to train: 8:8:8:8:(8|16): ValueError: data .* has 3 "
                        r"classes but .* has 10; .* \(also 8:8:8:8:(8|16)\); 0 rows of the others are in .*\n",
                        errors[0]), result.output
