"""Where a sweep's tasks run: in this process, on a local Dask cluster, or on a running one.

`Executor` hides the difference: `map(fn, items)` yields each item with its result (or the
exception it raised) as tasks finish, in order locally and in completion order on Dask
(`distributed.as_completed`), so the caller commits every result the moment it exists. Tasks
travel as small picklable dataclasses (architecture strings, specs, settings), never modules.

Devices: `worker_devices` pins each Dask worker to one device, by its index among the workers of
its host: `cuda:i mod count` when the worker sees CUDA devices, else `cpu` (dask-cuda workers see
one GPU each, so they all get `cuda:0`, which is theirs). A task looks its worker up with
`get_worker()`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from intensity.progress import Progress, notify

SCHEDULER_TIMEOUT_S = 10  # how long to try reaching a --scheduler (and to wait for its first worker)
_NO_DASK = "Dask is not installed: pip install 'intensity[explore]' (dask, distributed)"


class PointFailed(ValueError):
    """A point could not be evaluated (its training raised, or its worker died). A ValueError, so
    the CLI shows one line; the rows written before it stay in the store."""


class Executor:
    """Runs tasks here (no `workers`/`scheduler`) or on Dask: a local cluster of `workers`
    single-threaded worker processes, or the cluster at `scheduler`. A context manager: the
    client (and a cluster it started) close on exit, cancelling what is still running."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 progress: Progress | None = None) -> None:
        if workers is not None and scheduler is not None:
            raise ValueError("give `workers` (a local Dask cluster) or `scheduler`, not both")
        if workers is not None and workers < 1:
            raise ValueError(f"`workers` must be >= 1, got {workers}")
        self.workers, self.scheduler, self.progress = workers, scheduler, progress
        self.client = self.cluster = None

    @property
    def local(self) -> bool:
        return self.workers is None and self.scheduler is None

    def __enter__(self) -> Executor:
        if not self.local:
            self.client, self.cluster = dask_client(self.workers, self.scheduler, self.progress)
        return self

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any, BaseException | None]]:
        """(item, result, None) or (item, None, error) for every item, as each finishes."""
        if self.local:
            yield from _run_here(fn, items)
            return
        from distributed import as_completed

        futures = {self.client.submit(fn, item, pure=False): item for item in items}
        for future in as_completed(futures):
            if future.status == "finished":
                yield futures[future], future.result(), None
            else:  # "error": the task raised, or its worker died (KilledWorker)
                yield futures[future], None, future.exception()

    def devices(self) -> dict[str, str]:
        """{worker address: device} on Dask (each worker pinned, see the module docstring); {} here."""
        return {} if self.local else worker_devices(self.client)

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _run_here(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any, BaseException | None]]:
    for item in items:
        try:
            result = fn(item)
        except Exception as error:  # noqa: BLE001 (handed to the caller, who names the point)
            yield item, None, error
        else:
            yield item, result, None


def worker_devices(client: Any) -> dict[str, str]:
    """Pin every worker of `client`'s cluster to a device: {address: 'cuda:I' or 'cpu'}.
    Each worker's index counts the workers on its host (LocalCluster names them 0..N-1; other
    names sort as text, then by address); the worker itself says how many CUDA devices it sees."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    by_host: dict[str, list[str]] = {}
    for address, info in workers.items():
        by_host.setdefault(info.get("host", address), []).append(address)
    index = {}
    for addresses in by_host.values():
        ordered = sorted(addresses, key=lambda a: _name_order(workers[a].get("name"), a))
        index.update({address: i for i, address in enumerate(ordered)})
    return client.run(_pinned_device, index)


def _name_order(name: object, address: str) -> tuple:
    return (0, int(name), "", address) if isinstance(name, int) else (1, 0, str(name), address)


def _pinned_device(index: dict[str, int], dask_worker: Any = None) -> str:
    """Runs on a worker (Client.run): its device by its index in `index`."""
    return device_for(index.get(dask_worker.address, 0))


def device_for(index: int) -> str:
    """cuda:(index mod the CUDA devices this process sees), or cpu without any."""
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return f"cuda:{index % count}" if count else "cpu"


def this_worker_device(devices: dict[str, str]) -> str | None:
    """On a Dask worker: its pinned device (a worker that joined after pinning: by its name if it
    is an index, else the first); None outside Dask (the trainer's own default then)."""
    if not devices:
        return None
    from distributed import get_worker

    worker = get_worker()
    if worker.address in devices:
        return devices[worker.address]
    return device_for(worker.name if isinstance(worker.name, int) else 0)


def dask_client(workers: int | None, scheduler: str | None, progress: Progress | None = None) -> tuple[Any, Any]:
    """(client, the local cluster it owns or None)."""
    if scheduler is not None:
        return remote_client(scheduler, progress), None
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError(_NO_DASK) from None
    notify(progress, f"starting a local Dask cluster of {workers} workers", 0, None)
    # dashboard on a free port (its HTTP server starts anyway: None would still try 8787 and warn);
    # silence Dask's own log lines (a failed task's traceback, a slow worker shutdown): the caller
    # gets each failure as a result, and the CLI says it in one line
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=logging.CRITICAL)
    return Client(cluster), cluster


def _unreachable(scheduler: str, why: str) -> ValueError:
    return ValueError(f"cannot reach a Dask scheduler at {scheduler} ({why}): start one with "
                      f"`dask scheduler` or use --workers N")


def remote_client(scheduler: str, progress: Progress | None = None) -> Any:
    """A client of `scheduler` (tcp://HOST:PORT) with at least one worker: a plain socket probe
    first (fails at once on a closed port, where Dask would retry until its timeout), then Dask
    with a short timeout; any failure on the way is one clear error, never a traceback."""
    _probe(scheduler, progress)
    try:
        from distributed import Client
    except ImportError:
        raise ValueError(_NO_DASK) from None
    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except Exception as error:  # noqa: BLE001 (a port that is open but not Dask, a version clash)
        raise _unreachable(scheduler, f"{type(error).__name__}: {error}") from None
    _wait_for_a_worker(client, scheduler)
    return client


def _probe(scheduler: str, progress: Progress | None) -> None:
    import socket
    from urllib.parse import urlsplit

    scheme = scheduler.partition("://")[0] if "://" in scheduler else "tcp"
    if scheme not in ("tcp", "tls", "inproc", "ucx", "ws", "wss"):
        raise _unreachable(scheduler, "expected tcp://HOST:PORT")
    notify(progress, f"connecting to {scheduler} (up to {SCHEDULER_TIMEOUT_S} s)", 0, None)
    if scheme not in ("tcp", "tls"):  # inproc:// (an in-process cluster) has no socket to probe
        return
    try:
        parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise _unreachable(scheduler, f"bad address: {error}") from None
    if not host or port is None:
        raise _unreachable(scheduler, "expected tcp://HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=SCHEDULER_TIMEOUT_S).close()
    except Exception as error:  # noqa: BLE001 (refused, timed out, unknown host: all unreachable)
        raise _unreachable(scheduler, f"{type(error).__name__}: {error}") from None


def _wait_for_a_worker(client: Any, scheduler: str) -> None:
    """A scheduler without workers would hold the tasks forever: wait briefly, then say so."""
    try:
        client.wait_for_workers(1, timeout=SCHEDULER_TIMEOUT_S)
    except Exception:  # noqa: BLE001 (TimeoutError, or the scheduler went away)
        client.close()
        raise ValueError(f"the Dask scheduler at {scheduler} has no workers (waited "
                         f"{SCHEDULER_TIMEOUT_S} s): start some with `dask worker {scheduler}`") from None
