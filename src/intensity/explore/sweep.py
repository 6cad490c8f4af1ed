"""Sweeps: evaluate every (selected) point of a space and commit each result to a store.

`sweep` resumes: points already in the store for the same batch, dtype, device and evaluator are
skipped. NATS size points use the closed form (analytic.nats_metrics, equal to tracing); other
spaces trace each point with `predict`. With `workers`/`scheduler` the points run on Dask; only
architecture strings (and, for NATS, the small coefficient arrays) travel, and this process alone
writes the store.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from intensity.explore import analytic
from intensity.explore.evaluators import TableEvaluator, TrainEvaluator
from intensity.explore.spaces import Space, iter_points, make_space, nats_index
from intensity.explore.store import Row, Store, new_row
from intensity.progress import Progress, notify

CHUNK = 2048  # closed-form points computed (and committed) together
CLOSED_FORM_FROM = 200  # 'auto' fits the closed form (~70 traces) only for more points than this
METHODS = ("auto", "closed-form", "trace")
SCHEDULER_TIMEOUT_S = 10  # how long to try reaching a --scheduler


@dataclass
class SweepResult:
    space: str
    store: str
    device: str
    dtype: str
    batches: list[int]
    evaluator: str
    added: int
    skipped: int
    seconds: float
    method: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Task:
    """What a worker needs for one chunk: picklable, no modules."""

    spec: dict
    points: tuple[str, ...]
    device: object  # a HardwareSpec
    dtype: str
    batch: int
    fits: tuple | None = None  # NATS closed-form coefficients
    measure: dict | None = None  # measure_throughput options (on=cpu|cuda, iters, trials, threads)


def run_task(task: Task) -> list[tuple[str, dict]]:
    """Metrics of a chunk of points (runs locally or on a Dask worker)."""
    space = make_space(**task.spec)
    if task.measure is not None:
        return [(p, _measured(space, p, task)) for p in task.points]
    if task.fits is not None:
        indices = np.array([nats_index(p) for p in task.points], dtype=np.int64)
        results = analytic.nats_metrics(space, indices, spec=task.device, dtype=task.dtype,
                                        batch=task.batch, fits=task.fits)
        return [(p, results[i]) for p, i in zip(task.points, indices.tolist())]
    return [(p, analytic.predicted_metrics(space, p, device=task.device, dtype=task.dtype,
                                           batch=task.batch)) for p in task.points]


def _measured(space: Space, point: str, task: Task) -> dict:
    """Analytic metrics plus images/s timed here and the utilization they achieve (seed 003 Eqn 1)."""
    from intensity.measure.throughput import measure_throughput, utilization

    options = dict(task.measure)
    on = options.pop("on")
    metrics = analytic.predicted_metrics(space, point, device=task.device, dtype=task.dtype, batch=task.batch)
    timed = measure_throughput(space.build(point, meta=False), task.batch, space.input_shape, device=on,
                               dtype=task.dtype, **options)
    return {**metrics, "measured_images_per_s": timed.images_per_s, "measured_spread": timed.spread,
            "measured_threads": timed.threads,
            "measured_utilization": utilization(timed.images_per_s, metrics["flops"] / task.batch,
                                                task.device.peak_flops(task.dtype))}


def sweep(space: Space, store: Store, *, device: object, dtype: str = "fp16",
          batches: Sequence[int] = (1,), points: Sequence[str] | None = None,
          sample: int | None = None, seed: int = 0, evaluator: TableEvaluator | TrainEvaluator | None = None,
          method: str = "auto", workers: int | None = None, scheduler: str | None = None,
          measure: dict | None = None, progress: Progress | None = None) -> SweepResult:
    """Evaluate the selected points at every batch; commit rows as they finish. `measure`
    (options of `measure_throughput`, with `on`: cpu or cuda) also times each point."""
    from intensity.hardware import get_spec

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "closed-form" and space.name != "nats-size":
        raise ValueError("the closed-form method covers nats-size only; use `method` trace")
    spec = get_spec(device, dtype)
    selected = list(iter_points(space, points, sample, seed))
    closed = space.name == "nats-size" and measure is None and (
        method == "closed-form" or (method == "auto" and len(selected) > CLOSED_FORM_FROM))
    label = ("analytic" if measure is None else f"measured-{measure['on']}") + \
        (f"+{evaluator.name}" if evaluator else "")
    start, added, skipped = time.perf_counter(), 0, 0
    with _executor(workers, scheduler, progress) as submit:
        for batch in batches:
            done = store.done(batch, dtype, spec.key, label)
            todo = [p for p in selected if p not in done]
            skipped += len(selected) - len(todo)
            accuracy = evaluator.evaluate(todo, progress) if evaluator else {}
            fits = analytic.nats_fits(space.spec["dataset"], batch, dtype, progress=progress) \
                if closed and todo else None
            tasks = [Task(space.spec, tuple(chunk), spec, dtype, batch, fits, measure)
                     for chunk in _chunks(todo, CHUNK if closed else 1)]
            finished = 0
            for results in submit(tasks):
                rows = [_row(space, p, m, accuracy, batch, dtype, spec.key, label) for p, m in results]
                finished += store.add(rows)
                notify(progress, f"batch {batch}: points written", finished, len(todo))
            added += finished
    return SweepResult(space.name, str(store.path), spec.key, dtype, list(batches), label, added,
                       skipped, time.perf_counter() - start, "closed-form" if closed else "trace")


def _row(space: Space, point: str, metrics: dict, accuracy: dict, batch: int, dtype: str,
         device: str, label: str) -> Row:
    if point in accuracy:
        metrics = {**metrics, "accuracy": accuracy[point]}
    return new_row(space.key, point, batch, dtype, device, label, metrics)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _executor:  # noqa: N801 (used as a context manager factory)
    """Local: run tasks in order. Dask: submit them all, yield results as they complete."""

    def __init__(self, workers: int | None, scheduler: str | None, progress: Progress | None = None) -> None:
        if workers is not None and scheduler is not None:
            raise ValueError("give `workers` (a local Dask cluster) or `scheduler`, not both")
        self.workers, self.scheduler, self.progress = workers, scheduler, progress
        self.cluster = self.client = None

    def __enter__(self):  # noqa: ANN204
        if self.workers is None and self.scheduler is None:
            return lambda tasks: (run_task(t) for t in tasks)
        self.client = _dask_client(self.workers, self.scheduler, self.progress)
        self.cluster = getattr(self.client, "_own_cluster", None)
        return self._dask

    def _dask(self, tasks: list[Task]) -> Iterator[list[tuple[str, dict]]]:
        from distributed import as_completed

        futures = self.client.map(run_task, tasks, pure=False)
        for future in as_completed(futures):
            yield future.result()

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _dask_client(workers: int | None, scheduler: str | None, progress: Progress | None = None):  # noqa: ANN202
    if scheduler is not None:
        return _remote_client(scheduler, progress)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("Dask is not installed: pip install 'intensity[explore]' (dask, distributed)") from None
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    client._own_cluster = cluster
    return client


def _unreachable(scheduler: str, why: str) -> ValueError:
    return ValueError(f"cannot reach a Dask scheduler at {scheduler} ({why}): start one with "
                      f"`dask scheduler` or use --workers N")


def _remote_client(scheduler: str, progress: Progress | None):  # noqa: ANN202
    """A client of `scheduler` (tcp://HOST:PORT): a plain socket probe first (fails at once on a
    closed port, where Dask would retry until its timeout), then Dask with a short timeout; any
    failure on the way is the one clear error, never a traceback."""
    import socket
    from urllib.parse import urlsplit

    scheme = scheduler.partition("://")[0] if "://" in scheduler else "tcp"
    if scheme not in ("tcp", "tls", "inproc", "ucx", "ws", "wss"):
        raise _unreachable(scheduler, "expected tcp://HOST:PORT")
    notify(progress, f"connecting to {scheduler} (up to {SCHEDULER_TIMEOUT_S} s)", 0, None)
    if scheme in ("tcp", "tls"):  # inproc:// (an in-process cluster) has no socket to probe
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
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("Dask is not installed: pip install 'intensity[explore]' (dask, distributed)") from None
    try:
        return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except Exception as error:  # noqa: BLE001 (a port that is open but not Dask, a version clash)
        raise _unreachable(scheduler, f"{type(error).__name__}: {error}") from None
