from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from intensity.explore.spaces import make_space
from intensity.explore.store import Store, new_row, open_store
from intensity.explore.sweep import sweep

SRC = str(Path(__file__).resolve().parents[2] / "src")
POINTS = [str(i) for i in range(0, 32768, 2731)]  # 12 NATS networks, traced one by one


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _content(path: Path) -> set:
    with open_store(path) as store:
        return {(r.point, r.batch, r.dtype, r.device, r.evaluator, repr(sorted(r.metrics.items())))
                for r in store.rows()}


def _count(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return conn.execute("select count(*) from results").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow  # a child process imports torch, sweeps and is killed: ~6 s of CPU
def test_a_sigkilled_sweep_resumes_to_the_uninterrupted_store(tmp_path):
    space = make_space("nats-size")
    whole = tmp_path / "whole.db"
    with Store(whole, space.key) as store:
        sweep(space, store, device="a100-40gb", points=POINTS, method="trace")
    killed = tmp_path / "killed.db"
    command = [sys.executable, "-m", "intensity.cli", "sweep", "nats-size", "--device", "a100-40gb",
               "--store", str(killed), "--points", ",".join(POINTS), "--method", "trace"]
    env = {**os.environ, "PYTHONPATH": SRC}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while _count(killed) < 2 and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # really killed: no cleanup, no final commit
    process.wait()
    stored = _count(killed)
    assert 2 <= stored < len(POINTS)
    with Store(killed, space.key) as store:
        result = sweep(space, store, device="a100-40gb", points=POINTS, method="trace")
    assert result.skipped == stored and result.added == len(POINTS) - stored
    assert _content(killed) == _content(whole)


def test_two_writers_do_not_corrupt_the_store(tmp_path):
    path = tmp_path / "shared.db"
    key = make_space("nats-size").key
    Store(path, key).close()
    errors = []

    def write(offset: int) -> None:
        try:
            with Store(path, key) as store:
                for i in range(150):  # overlapping points: each writer commits row by row
                    store.add([new_row(key, str(i + offset), 1, "fp16", "x", "analytic", {"n": i})])
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=write, args=(offset,)) for offset in (0, 100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("select count(*) from results").fetchone()[0] == 250  # 0..249 once each


def test_foreign_corrupt_and_other_space_stores_are_refused_untouched(tmp_path):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database\n" * 100)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("create table people (name text)")
    other = tmp_path / "other.db"
    Store(other, make_space("nats-size", dataset="cifar100").key).close()
    for path, message in ((corrupt, "not an intensity results store"),
                          (foreign, "not an intensity results store"), (other, "another space")):
        before = _digest(path)
        with pytest.raises(ValueError, match=message):
            Store(path, make_space("nats-size").key)
        assert _digest(path) == before


def test_store_rows_and_reading(tmp_path):
    path = tmp_path / "r.db"
    key = make_space("nats-size").key
    with Store(path, key) as store:
        store.add([new_row(key, "8:8:8:8:8", 1, "fp16", "a100-40gb", "analytic", {"flops": 2})])
        store.add([new_row(key, "8:8:8:8:8", 1, "fp16", "a100-40gb", "analytic", {"flops": 3})])
        assert store.done(1, "fp16", "a100-40gb", "analytic") == {"8:8:8:8:8"}
    with open_store(path) as store:
        assert [r.flat()["flops"] for r in store.rows()] == [2]  # the first row is kept
    with pytest.raises(ValueError, match="no results store"):
        open_store(tmp_path / "missing.db")
