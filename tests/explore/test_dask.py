"""The Dask path (a 2-worker LocalCluster) writes the same store as the local path."""
from __future__ import annotations

import time

import pytest

from intensity.explore.spaces import make_space
from intensity.explore.store import Store, open_store
from intensity.explore.sweep import sweep

pytest.importorskip("distributed")
POINTS = ["0", "11", "4681", "32767"]


def _content(path):  # noqa: ANN001, ANN202
    with open_store(path) as store:
        return {(r.point, r.batch, r.device, r.evaluator, repr(sorted(r.metrics.items()))) for r in store.rows()}


def test_two_worker_local_cluster_equals_local(tmp_path):
    space = make_space("nats-size")
    runs = {}
    cases = (("local", {"method": "trace"}), ("dask", {"workers": 2, "method": "trace"}),
             ("dask-closed", {"workers": 2, "method": "closed-form"}))  # fits travel, not modules
    for name, options in cases:
        path = tmp_path / f"{name}.db"
        start = time.perf_counter()
        with Store(path, space.key) as store:
            result = sweep(space, store, device="a100-40gb", points=POINTS, batches=[1],
                           **options)
        runs[name] = time.perf_counter() - start
        assert result.added == 4
    assert _content(tmp_path / "dask.db") == _content(tmp_path / "local.db")
    assert _content(tmp_path / "dask-closed.db") == _content(tmp_path / "local.db")


def test_an_existing_scheduler_by_address(tmp_path, monkeypatch):
    from distributed import LocalCluster

    import intensity.explore.distributed as distributed

    space = make_space("nats-size")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        with Store(tmp_path / "s.db", space.key) as store:
            result = sweep(space, store, device="a100-40gb", points=POINTS[:2], method="trace",
                           scheduler=cluster.scheduler_address)
    assert result.added == 2
    monkeypatch.setattr(distributed, "SCHEDULER_TIMEOUT_S", 1)
    with Store(tmp_path / "s.db", space.key) as store, pytest.raises(ValueError, match="cannot reach"):
        sweep(space, store, device="a100-40gb", points=["0"], scheduler="tcp://127.0.0.1:9")
