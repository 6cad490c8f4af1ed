"""Where sweep tasks run: the executor, worker device pinning, clear errors for bad clusters."""
from __future__ import annotations

import pytest
import torch

from intensity.explore import distributed as spread

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():  # noqa: ANN201
    """Two workers in this process: they see this process's (monkeypatched) torch."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as running:
        yield running


def _cuda(monkeypatch, count):  # noqa: ANN001, ANN202
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


@pytest.mark.parametrize(("gpus", "expected"), [(0, ["cpu", "cpu"]), (1, ["cuda:0", "cuda:0"]),
                                                (2, ["cuda:0", "cuda:1"]), (4, ["cuda:0", "cuda:1"])])
def test_each_worker_is_pinned_by_its_index(cluster, monkeypatch, gpus, expected):
    _cuda(monkeypatch, gpus)
    with distributed.Client(cluster) as client:
        devices = spread.worker_devices(client)
        names = {a: w["name"] for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
        # LocalCluster names its workers 0 and 1: worker i gets cuda:(i mod gpus)
        assert [devices[a] for a in sorted(devices, key=names.get)] == expected
        seen = client.submit(spread.this_worker_device, devices, pure=False).result()
        assert seen in expected
    assert spread.this_worker_device({}) is None  # outside Dask: the trainer's own default


def test_index_order_of_workers_by_name():
    # integer names (LocalCluster) by value, so worker 10 comes after worker 2; others by text
    names = [(10, "tcp://a:1"), (2, "tcp://a:2"), ("w-b", "tcp://a:3"), ("w-a", "tcp://a:4")]
    ordered = sorted(names, key=lambda n: spread._name_order(*n))
    assert [n for n, _ in ordered] == [2, 10, "w-a", "w-b"]


def test_the_executor_yields_errors_with_their_items(cluster):
    def half(x):  # noqa: ANN001, ANN202
        if x == 0:
            raise ZeroDivisionError("no half of nothing here")
        return x / 2

    with spread.Executor() as here:
        assert list(here.map(half, [2, 4])) == [(2, 1.0, None), (4, 2.0, None)]
        (item, result, error), = here.map(half, [0])
        assert (item, result, type(error)) == (0, None, ZeroDivisionError)
    with spread.Executor(scheduler=cluster.scheduler_address) as there:
        outcomes = {item: (result, type(error)) for item, result, error in there.map(half, [0, 2, 4])}
    assert outcomes == {0: (None, ZeroDivisionError), 2: (1.0, type(None)), 4: (2.0, type(None))}


def test_bad_clusters_are_one_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="not both"):
        spread.Executor(workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="`workers` must be >= 1"):
        spread.Executor(workers=0)
    monkeypatch.setattr(spread, "SCHEDULER_TIMEOUT_S", 1)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty:
        with pytest.raises(ValueError, match="has no workers .* start some with `dask worker"):
            spread.remote_client(empty.scheduler_address)
    with pytest.raises(ValueError, match="cannot reach a Dask scheduler at tcp://127.0.0.1:9"):
        spread.remote_client("tcp://127.0.0.1:9")
