"""Sweeps: evaluate every (selected) point of a space and commit each result to a store.

`sweep` resumes: points already in the store for the same batch, dtype, device and evaluator are
skipped. NATS size points use the closed form (analytic.nats_metrics, equal to tracing); other
spaces trace each point with `predict`. With `workers`/`scheduler` the points run on Dask
(explore/distributed.py); only architecture strings (and, for NATS, the small coefficient arrays)
travel, and this process alone writes the store.

With the train evaluator each point is one task that trains it (on a Dask worker: on that
worker's own device) and returns its rows for every batch; rows are committed as tasks finish.
A killed sweep's rerun skips stored rows, and a point whose run folder holds a checkpoint
continues it (a finished run is only tested again), so nothing finished is trained twice.

Each row holds the bound (latency_s, images_per_s, utilization: the waterline, never beaten) and,
on a GPU spec, the estimate (estimate_*: what the `runtime`, eager or compiled, will likely
measure, under an efficiency profile). Stored rows without an estimate for the sweep's runtime and
profile (a store written before estimates, or another --runtime) get it recomputed in place; their
accuracy and timings are kept.
"""
from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from intensity.explore import analytic
from intensity.explore.distributed import Executor, PointFailed, this_worker_device
from intensity.explore.evaluators import TableEvaluator, Trained, TrainEvaluator, TrainJob, train_point
from intensity.explore.spaces import Space, iter_points, make_space, nats_index
from intensity.explore.store import Row, Store, new_row
from intensity.progress import Progress, notify

CHUNK = 2048  # closed-form points computed (and committed) together
CLOSED_FORM_FROM = 200  # 'auto' fits the closed form (~70 traces) only for more points than this
METHODS = ("auto", "closed-form", "trace")


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
    runtime: str | None = None  # the estimate's runtime (None: the device has no GPU estimate)
    profile: str | None = None  # the estimate's efficiency profile
    refreshed: int = 0  # stored rows whose estimate was (re)computed


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
    runtime: str = "eager"  # the estimate's
    profile: object = None  # its EfficiencyProfile; None: no estimate (a CPU, a calibrated device)
    work_fits: tuple | None = None  # NATS closed-form coefficients of the runtime's kernels


def run_task(task: Task) -> list[tuple[str, dict]]:
    """Metrics of a chunk of points (runs locally or on a Dask worker)."""
    space = make_space(**task.spec)
    if task.measure is not None:
        return [(p, _measured(space, p, task)) for p in task.points]
    if task.fits is not None:
        indices = np.array([nats_index(p) for p in task.points], dtype=np.int64)
        results = analytic.nats_metrics(space, indices, spec=task.device, dtype=task.dtype, batch=task.batch,
                                        fits=task.fits, runtime=task.runtime, profile=task.profile,
                                        work_fits=task.work_fits)
        return [(p, results[i]) for p, i in zip(task.points, indices.tolist())]
    return [(p, _predicted(space, p, task)) for p in task.points]


def _predicted(space: Space, point: str, task: Task) -> dict:
    return analytic.predicted_metrics(space, point, device=task.device, dtype=task.dtype, batch=task.batch,
                                      runtime=task.runtime, profile=task.profile)


def _measured(space: Space, point: str, task: Task) -> dict:
    """Analytic metrics plus images/s timed here and the utilization they achieve (seed 003 Eqn 1)."""
    from intensity.measure.throughput import measure_throughput, utilization

    options = dict(task.measure)
    on = options.pop("on")
    metrics = _predicted(space, point, task)
    timed = measure_throughput(space.build(point, meta=False), task.batch, space.input_shape, device=on,
                               dtype=task.dtype, **options)
    return {**metrics, "measured_images_per_s": timed.images_per_s, "measured_spread": timed.spread,
            "measured_threads": timed.threads,
            "measured_utilization": utilization(timed.images_per_s, metrics["flops"] / task.batch,
                                                task.device.peak_flops(task.dtype))}


@dataclass(frozen=True)
class TrainedTask:
    """One point to train and its metrics at every batch still missing from the store: one Dask
    task (training once serves all batches, and two tasks never train one point)."""

    job: TrainJob
    point: str
    metrics: tuple[Task, ...]  # one per missing batch, each of this one point
    devices: dict  # {worker address: device} on Dask, {} in this process


@dataclass(frozen=True)
class TrainedPoint:
    trained: Trained
    metrics: tuple[tuple[int, dict], ...]  # (batch, metrics) with the accuracy


def run_trained(task: TrainedTask, progress: Progress | None = None) -> TrainedPoint:
    """Train the point on this worker's device (or here), then add its accuracy to its metrics."""
    trained = train_point(task.job, task.point, this_worker_device(task.devices), progress)
    rows = tuple((t.batch, {**metrics, "accuracy": trained.accuracy})
                 for t in task.metrics for _, metrics in run_task(t))
    return TrainedPoint(trained, rows)


@dataclass(frozen=True)
class _Plan:
    """What every part of one sweep shares."""

    space: Space
    store: Store
    spec: object  # the HardwareSpec
    dtype: str
    label: str  # the evaluator column
    closed: bool
    measure: dict | None
    progress: Progress | None
    runtime: str = "eager"
    profile: object = None  # the estimate's EfficiencyProfile; None: the device has no GPU estimate

    def task(self, points: Sequence[str], batch: int, fits: tuple | None) -> Task:
        """`fits`: what `self.fits(batch)` gave (the bound's and the estimate's closed forms)."""
        bound, works = fits or (None, None)
        return Task(self.space.spec, tuple(points), self.spec, self.dtype, batch, bound, self.measure,
                    self.runtime, self.profile, works)

    def fits(self, batch: int) -> tuple | None:
        if not self.closed:
            return None
        dataset = self.space.spec["dataset"]
        works = None if self.profile is None else \
            analytic.nats_fits(dataset, batch, self.dtype, self.progress, self.runtime)
        return analytic.nats_fits(dataset, batch, self.dtype, progress=self.progress), works

    def stale(self, points: Sequence[str], batch: int) -> dict[str, Row]:
        """Stored rows of `points` without an estimate of this runtime and profile."""
        if self.profile is None:
            return {}
        wanted, current = set(points), (self.runtime, self.profile.name)
        return {r.point: r for r in self.store.rows(batch=batch, dtype=self.dtype, device=self.spec.key,
                                                    evaluator=self.label)
                if r.point in wanted and (r.metrics.get("estimate_runtime"), r.metrics.get("estimate_profile")) != current}

    def missing(self, points: Sequence[str], batch: int) -> list[str]:
        done = self.store.done(batch, self.dtype, self.spec.key, self.label)
        return [p for p in points if p not in done]

    def row(self, point: str, batch: int, metrics: dict) -> Row:
        return new_row(self.space.key, point, batch, self.dtype, self.spec.key, self.label, metrics)


def sweep(space: Space, store: Store, *, device: object, dtype: str = "fp16",
          batches: Sequence[int] = (1,), points: Sequence[str] | None = None,
          sample: int | None = None, seed: int = 0, evaluator: TableEvaluator | TrainEvaluator | None = None,
          method: str = "auto", workers: int | None = None, scheduler: str | None = None,
          measure: dict | None = None, runtime: str = "eager", profile: object = None,
          progress: Progress | None = None) -> SweepResult:
    """Evaluate the selected points at every batch; commit rows as they finish. `measure`
    (options of `measure_throughput`, with `on`: cpu or cuda) also times each point. With the
    train evaluator each point is one task (on Dask: one worker, on its own device) that trains
    it and computes its rows; a point that fails raises PointFailed after the others are written.
    `runtime` (eager or compiled) and `profile` (a fit-device JSON or an EfficiencyProfile; None:
    the device's own) choose the estimate beside the bound."""
    from intensity.analysis.efficiency import check_runtime
    from intensity.hardware import get_spec

    check_runtime(runtime)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "closed-form" and space.name != "nats-size":
        raise ValueError("the closed-form method covers nats-size only; use `method` trace")
    spec = get_spec(device, dtype)
    chosen, estimate_note = _profile(spec, runtime, profile)
    selected = list(iter_points(space, points, sample, seed))
    closed = space.name == "nats-size" and measure is None and (
        method == "closed-form" or (method == "auto" and len(selected) > CLOSED_FORM_FROM))
    label = ("analytic" if measure is None else f"measured-{measure['on']}") + \
        (f"+{evaluator.name}" if evaluator else "")
    plan = _Plan(space, store, spec, dtype, label, closed, measure, progress, runtime, chosen)
    start = time.perf_counter()
    with Executor(workers, scheduler, progress) as executor:
        refreshed = _refresh_estimates(plan, executor, selected, batches)
        if isinstance(evaluator, TrainEvaluator):
            added, skipped, notes = _sweep_trained(plan, executor, selected, batches, evaluator.job)
        else:
            added, skipped, notes = _sweep_analytic(plan, executor, selected, batches, evaluator)
    if refreshed:
        notes.append(f"{refreshed} stored rows got the {runtime} estimate ({chosen.name} profile) they lacked")
    return SweepResult(space.name, str(store.path), spec.key, dtype, list(batches), label, added,
                       skipped, time.perf_counter() - start, "closed-form" if closed else "trace",
                       [*notes, estimate_note], runtime if chosen else None, chosen.name if chosen else None,
                       refreshed)


def _profile(spec: object, runtime: str, profile: object) -> tuple[object, str]:
    """The estimate's EfficiencyProfile on `spec` (None where there is no GPU estimate) and a note."""
    from intensity.analysis.predict import check_profile_is_used, runtime_profile

    check_profile_is_used(profile, spec)
    if getattr(spec, "calibration", None) is not None:
        return None, (f"estimate_*: what eager PyTorch will likely measure here, from {spec.key}'s kernel times "
                      f"(profile {analytic.CALIBRATED}); latency_s, images_per_s, utilization: the roofline bound")
    if spec.benchmarks:
        return None, (f"no estimate on {spec.key}: only GPU specs have an efficiency profile (--device "
                      f"calibrated estimates this machine)")
    chosen = runtime_profile(spec, runtime, profile)
    return chosen, f"estimate_*: what {runtime} PyTorch will likely measure ({chosen.name} profile: {chosen.source})"


def _refresh_estimates(plan: _Plan, executor: Executor, selected: list[str], batches: Sequence[int]) -> int:
    """Recompute the analytic metrics of stored rows that lack this runtime's and profile's
    estimate, and update them in place (keeping their accuracy and timings)."""
    refreshed = 0
    for batch in batches:
        stale = plan.stale(selected, batch)
        if not stale:
            continue
        fits = plan.fits(batch)
        tasks = [dataclasses.replace(plan.task(chunk, batch, fits), measure=None)
                 for chunk in _chunks(list(stale), CHUNK if plan.closed else 1)]
        for _, results, error in executor.map(run_task, tasks):
            if error is not None:
                raise error
            refreshed += plan.store.update(stale[p].with_metrics({**stale[p].metrics, **m})
                                           for p, m in results)
            notify(plan.progress, f"batch {batch}: stored rows given the estimate", refreshed, len(stale))
    return refreshed


def _sweep_analytic(plan: _Plan, executor: Executor, selected: list[str], batches: Sequence[int],
                    evaluator: TableEvaluator | None) -> tuple[int, int, list[str]]:
    """Batch by batch: points in chunks (closed form) or one by one, rows committed per task."""
    added = skipped = 0
    for batch in batches:
        todo = plan.missing(selected, batch)
        skipped += len(selected) - len(todo)
        accuracy = evaluator.evaluate(todo, plan.progress) if evaluator else {}
        fits = plan.fits(batch) if todo else None
        tasks = [plan.task(chunk, batch, fits) for chunk in _chunks(todo, CHUNK if plan.closed else 1)]
        finished = 0
        for _, results, error in executor.map(run_task, tasks):
            if error is not None:
                raise error
            rows = [plan.row(p, batch, _with_accuracy(p, m, accuracy)) for p, m in results]
            finished += plan.store.add(rows)
            notify(plan.progress, f"batch {batch}: points written", finished, len(todo))
        added += finished
    return added, skipped, []


def _with_accuracy(point: str, metrics: dict, accuracy: dict) -> dict:
    return {**metrics, "accuracy": accuracy[point]} if point in accuracy else metrics


def _sweep_trained(plan: _Plan, executor: Executor, selected: list[str], batches: Sequence[int],
                   job: TrainJob) -> tuple[int, int, list[str]]:
    """Point by point: each task trains one point and returns its rows for every missing batch;
    they are committed as soon as it finishes, in whatever order the workers finish."""
    missing = {batch: set(plan.missing(selected, batch)) for batch in batches}
    skipped = sum(len(selected) - len(points) for points in missing.values())
    tasks = _trained_tasks(plan, job, selected, missing, executor.devices())
    here = executor.local and plan.progress is not None
    run = (lambda task: run_trained(task, _prefixed(plan.progress, task.point))) if here else run_trained
    added, failed, used, resumed = 0, [], Counter(), 0
    notify(plan.progress, "points trained", 0, len(tasks))
    for done, (task, outcome, error) in enumerate(executor.map(run, tasks), start=1):
        if error is not None:
            failed.append((task.point, error))
        else:
            added += plan.store.add(plan.row(task.point, b, m) for b, m in outcome.metrics)
            used[outcome.trained.device] += 1
            resumed += outcome.trained.resumed
        notify(plan.progress, "points trained", done, len(tasks))
    if failed:
        raise _failure(failed, len(tasks), added, plan.store.path)
    return added, skipped, _training_notes(used, resumed, job.runs)


def _trained_tasks(plan: _Plan, job: TrainJob, selected: list[str], missing: dict[int, set[str]],
                   devices: dict[str, str]) -> list[TrainedTask]:
    """One task per point missing at some batch, carrying its metric tasks for those batches."""
    fits = {batch: plan.fits(batch) if points else None for batch, points in missing.items()}
    return [TrainedTask(job, p, tuple(plan.task([p], b, fits[b]) for b in missing if p in missing[b]), devices)
            for p in selected if any(p in points for points in missing.values())]


def _training_notes(used: Counter, resumed: int, runs: str) -> list[str]:
    """Where the points trained, and how many continued a checkpoint (a killed sweep's rerun)."""
    notes = [f"trained on {', '.join(f'{d} ({n})' for d, n in sorted(used.items()))}"] if used else []
    return notes + ([f"{resumed} continued from their checkpoints in {runs}"] if resumed else [])


def _prefixed(progress: Progress, point: str) -> Progress:
    return lambda what, completed, total: progress(f"{point}: {what}", completed, total)


def _failure(failed: list[tuple[str, BaseException]], total: int, added: int, store: object) -> PointFailed:
    """One line: which points failed, why the first did, and that the finished rows are stored."""
    point, error = failed[0]
    why = " ".join(f"{type(error).__name__}: {error}".split())
    others = f" (also {', '.join(p for p, _ in failed[1:])})" if len(failed) > 1 else ""
    return PointFailed(f"{len(failed)} of {total} points failed to train: {point}: {why}{others}; "
                       f"{added} rows of the others are in {store}, and a rerun trains only what is missing")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
