"""Two gloo processes on CPU train a few steps; both replicas must equal a one-process run on the
full batch (V1 has no batch norm; the game preset has no dropout)."""
import csv
import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp

from intensity.train.loop import TrainConfig, train

# 44 images (V1: 11 classes x 4); 2 ranks x batch 11 = one process at batch 22; 2 steps per epoch
BASE = dict(model="game-lol-gold1", data="generated:game-lol-gold1", f=1, epochs=1, per_class=4, lr=1e-3)


def _worker(rank, port, out):
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo")
    torch.set_num_threads(1)
    from intensity.train.ddp import distributed_train

    result = distributed_train(TrainConfig(**BASE, out=f"{out}/run", batch=11), timeout_s=60)
    torch.save(result.model.state_dict(), f"{out}/rank{rank}.pt")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # about 40 s on 2 busy cores: two spawned processes import torch
def test_two_gloo_replicas_equal_one_process(tmp_path):
    context = mp.start_processes(_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=False,
                                 start_method="spawn")
    for process in context.processes:
        process.join(120)  # a hang fails here, not forever
    alive = [p for p in context.processes if p.is_alive()]
    for p in alive:
        p.terminate()
    assert not alive and all(p.exitcode == 0 for p in context.processes)
    a, b = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    single_run = train(TrainConfig(**BASE, out=str(tmp_path / "single"), batch=22))
    single = single_run.model.state_dict()
    for key in a:
        assert torch.equal(a[key], b[key])
        # Adam divides by sqrt(v): gradients equal up to float summation order give updates equal
        # to ~1e-6, except near-zero gradients whose sign may flip (at most 2 lr per step, 2 steps)
        diff = (a[key] - single[key]).abs()
        assert diff.median() < 1e-6 and diff.max() <= 4 * BASE["lr"], key
    assert (tmp_path / "run" / "last.pt").is_file()  # rank 0 wrote it
    # rank 0's metrics cover all 44 images (summed over ranks), not its own 22
    row = next(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert float(row["loss"]) == pytest.approx(single_run.metrics[0]["loss"], abs=1e-5)
    assert float(row["train_acc"]) == pytest.approx(single_run.metrics[0]["train_acc"])


@pytest.mark.slow  # about 30 s: torchrun starts two ranks that import torch
def test_torchrun_launches_the_documented_command(tmp_path):
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "intensity.train", "game-lol-gold1", "--data", "generated:game-lol-gold1", "--per-class", "4",
               "--epochs", "2", "--batch", "11", "--out", str(tmp_path / "run")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "test top-1" in done.stdout and done.stdout.count("test top-1") == 1  # rank 0 only
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"]
