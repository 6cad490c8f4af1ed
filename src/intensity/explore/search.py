"""Sample-based NAS for the accuracy x throughput frontier (seed 003 4.2-4.5).

Algorithm 1: sample a point, evaluate accuracy f_A and throughput f_T, rank it by Eqn 3
r = f_A / 100 x (f_T / G_T)^w, and keep the running Pareto frontier. Samplers: `random` (uniform,
without replacement) and `evolution` (Optuna's NSGA-II on both objectives, seeded). `filter` is
approximate filtering (4.3-4.5): the throughput x utilization frontier is built analytically over
the whole space first (cheap), and accuracy is evaluated only on its members, then on their
neighbours (one step along one axis) while the budget lasts. The budget counts accuracy
evaluations, the expensive ones; throughput here is the analytic waterline prediction.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from intensity.explore import analytic
from intensity.explore.pareto import hypervolume, nondominated
from intensity.explore.spaces import NATS_CHOICES, Space
from intensity.progress import Progress, notify
from intensity.registry import Registry

G_T, W = 175_000.0, 0.07  # seed 003 4.5 (after Tan et al. 2019)
# name -> strategy(space, metrics, evaluate, seed) -> size of the candidate set or None; the
# docstring's first line is its help. Adding a strategy is one decorated function.
STRATEGIES: Registry[Callable[..., int | None]] = Registry(
    "strategy", "choose random, evolution or filter (intensity search --help)")


def rank(accuracy: float, throughput: float, g_t: float = G_T, w: float = W) -> float:
    """Seed 003 Eqn 3: r(s) = f_A(s) / 100 x (f_T(s) / G_T)^w."""
    if g_t <= 0:
        raise ValueError(f"G_T must be a positive throughput, got {g_t}")
    return accuracy / 100 * (throughput / g_t) ** w


@dataclass
class Evaluated:
    point: str
    accuracy: float
    throughput: float
    utilization: float
    rank: float


@dataclass
class SearchResult:
    strategy: str
    evaluations: int  # accuracy evaluations spent
    budget: int
    frontier: list[Evaluated]  # accuracy x throughput, best accuracy first
    hypervolume: float
    true_hypervolume: float | None  # when the evaluator knows every point of the space
    best: list[Evaluated]  # top by Eqn 3
    candidates: int | None = None  # filter: size of the throughput x utilization frontier
    notes: list[str] = field(default_factory=list)

    @property
    def hypervolume_ratio(self) -> float | None:
        return self.hypervolume / self.true_hypervolume if self.true_hypervolume else None


def analytic_all(space: Space, *, device: object, dtype: str, batch: int,
                 pool: Sequence[str] | None = None, progress: Progress | None = None) -> dict[str, dict]:
    """Analytic metrics of every point, or of the `pool` (closed form for nats-size with many
    points, tracing otherwise)."""
    from intensity.explore.spaces import nats_index
    from intensity.hardware import get_spec

    spec = get_spec(device, dtype)
    points = list(pool) if pool is not None else space.points()
    if space.name == "nats-size" and len(points) > 200:
        indices = np.array([nats_index(p) for p in points], dtype=np.int64)
        results = analytic.nats_metrics(space, indices, spec=spec, dtype=dtype, batch=batch,
                                        progress=progress)
        notify(progress, f"analytic metrics (closed form, {len(points)} points)", len(points), len(points))
        return {space.point(i): results[i] for i in indices.tolist()}
    metrics = {}
    for count, point in enumerate(points, start=1):
        metrics[point] = analytic.predicted_metrics(space, point, device=spec, dtype=dtype, batch=batch)
        notify(progress, "analytic metrics", count, len(points))
    return metrics


def search(space: Space, accuracy: Callable[[str], float], *, strategy: str, budget: int,
           device: object, dtype: str = "fp16", batch: int = 1, g_t: float = G_T, w: float = W,
           seed: int = 0, known: Sequence[str] | None = None, budget_hours: float | None = None,
           progress: Progress | None = None) -> SearchResult:
    """Run one strategy for `budget` accuracy evaluations. `known`: the points the accuracy table
    covers: the true frontier's hypervolume is reported over them, and when
    it covers only part of it the search runs within that part (a note says so). `budget_hours`
    also stops the search when that much wall-clock time has passed."""
    run = STRATEGIES[strategy]
    check_search_numbers(budget, g_t, w, budget_hours)
    pool = _pool(space, known)
    metrics = analytic_all(space, device=device, dtype=dtype, batch=batch, pool=pool, progress=progress)
    deadline = time.monotonic() + budget_hours * 3600 if budget_hours is not None else None
    evaluate = _Evaluator(accuracy, metrics, budget, g_t, w, progress, deadline)
    candidates = run(space, metrics, evaluate, seed)
    result = _result(strategy, evaluate, budget, metrics, accuracy, known is not None,
                     candidates)
    if pool is not None:
        result.notes.append(f"the accuracy table covers {len(pool)} of {space.size} points: "
                            f"searched (and the true frontier taken) within them")
    return result


def check_search_numbers(budget: int, g_t: float, w: float, budget_hours: float | None) -> None:
    """The budgets and Eqn 3's G_T and w, checked before any table or space is loaded."""
    if budget < 1:
        raise ValueError(f"--budget-evals must be >= 1, got {budget}")
    if budget_hours is not None and not 0 < budget_hours < float("inf"):
        raise ValueError(f"--budget-hours must be a finite number > 0, got {budget_hours}")
    if not 0 < g_t < float("inf"):
        raise ValueError(f"--g-t (Eqn 3's target throughput G_T, images/s) must be a finite number > 0, "
                         f"got {g_t}")
    if not 0 <= w < float("inf"):
        raise ValueError(f"--w (Eqn 3's throughput weight) must be a finite number >= 0, got {w}")


def _pool(space: Space, known: Sequence[str] | None) -> list[str] | None:
    """The table's points when it covers only part of the space (None: the whole space)."""
    if known is None or len(set(known)) >= space.size:
        return None
    return list(dict.fromkeys(known))


class _Evaluator:
    """f_A with a budget: each distinct point costs one evaluation."""

    def __init__(self, accuracy, metrics, budget, g_t, w, progress, deadline=None) -> None:  # noqa: ANN001
        self.accuracy, self.metrics, self.budget = accuracy, metrics, budget
        self.g_t, self.w, self.progress, self.deadline = g_t, w, progress, deadline
        self.seen: dict[str, Evaluated] = {}

    @property
    def exhausted(self) -> bool:
        late = self.deadline is not None and time.monotonic() >= self.deadline
        return late or len(self.seen) >= self.budget

    def __call__(self, point: str) -> Evaluated:
        if point not in self.seen:
            if self.exhausted:
                raise RuntimeError("evaluation budget exhausted")
            m = self.metrics[point]
            acc = float(self.accuracy(point))
            self.seen[point] = Evaluated(point, acc, m["images_per_s"], m["utilization"],
                                         rank(acc, m["images_per_s"], self.g_t, self.w))
            notify(self.progress, "accuracy evaluations (of the budget)", len(self.seen), self.budget)
        return self.seen[point]


@STRATEGIES.register("random")
def _random(space: Space, metrics: dict[str, dict], evaluate: _Evaluator, seed: int) -> None:  # noqa: ARG001
    """uniform sampling without replacement"""
    points = list(metrics)
    for point in random.Random(seed).sample(points, min(evaluate.budget, len(points))):
        if evaluate.exhausted:
            break
        evaluate(point)


@STRATEGIES.register("evolution")
def _evolution(space: Space, metrics: dict[str, dict], evaluate: _Evaluator, seed: int) -> None:  # noqa: ARG001
    """Optuna NSGA-II over the space's axes, maximising accuracy and throughput"""
    try:
        import optuna
    except ImportError:
        raise ValueError("the evolution strategy needs Optuna: pip install 'intensity[explore]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    axes = _axes(space)
    study = optuna.create_study(directions=["maximize", "maximize"],
                                sampler=optuna.samplers.NSGAIISampler(seed=seed, population_size=
                                                                      max(4, min(50, evaluate.budget // 4))))
    for _ in range(evaluate.budget * 50):  # repeats of seen points are free; stop eventually
        if evaluate.exhausted or len(evaluate.seen) >= len(evaluate.metrics):
            break
        trial = study.ask()
        point = _compose(space, [trial.suggest_categorical(n, v) for n, v in axes.items()])
        if point not in evaluate.metrics:  # outside the table's part of the space
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        result = evaluate(point)
        study.tell(trial, [result.accuracy, result.throughput])


def _axes(space: Space) -> dict[str, list]:
    if space.name == "nats-size":
        return {f"c{slot + 1}": list(NATS_CHOICES) for slot in range(5)}
    return dict(space.spec["grid"])


def _compose(space: Space, values: list) -> str:
    if space.name == "nats-size":
        return ":".join(str(v) for v in values)
    return ",".join(f"{k}={v}" for k, v in zip(space.spec["grid"], values))


def neighbours(space: Space, point: str) -> list[str]:
    """Points one step away along one axis (a width 8 up or down; the next grid value)."""
    if space.name == "nats-size":
        widths = [int(c) for c in point.split(":")]
        steps = [widths[:s] + [widths[s] + d] + widths[s + 1:] for s in range(5) for d in (-8, 8)]
        return [":".join(map(str, w)) for w in steps if all(8 <= c <= 64 for c in w)]
    axes, values = space.spec["grid"], space.kwargs(point)
    found = []
    for name, options in axes.items():
        position = options.index(values[name])
        for other in (position - 1, position + 1):
            if 0 <= other < len(options):
                found.append(_compose(space, [options[other] if k == name else values[k] for k in axes]))
    return found


@STRATEGIES.register("filter")
def _filter(space: Space, metrics: dict[str, dict], evaluate: _Evaluator, seed: int) -> int:  # noqa: ARG001
    """approximate filtering: the analytic throughput x utilization frontier, then its neighbours"""
    points = list(metrics)
    values = np.array([[metrics[p]["images_per_s"], metrics[p]["utilization"]] for p in points])
    members = [points[i] for i in nondominated(values, [True, True])]
    around = [n for p in members for n in neighbours(space, p) if n in metrics]
    queue = list(dict.fromkeys(members + around))
    for point in queue:
        if evaluate.exhausted:
            break
        evaluate(point)
    return len(members)


def _frontier(items: list[Evaluated]) -> list[Evaluated]:
    values = np.array([[e.accuracy, e.throughput] for e in items]) if items else np.zeros((0, 2))
    front = [items[i] for i in nondominated(values, [True, True])]
    return sorted(front, key=lambda e: -e.accuracy)


def _hypervolume(items: list[Evaluated]) -> float:
    return hypervolume(np.array([[e.accuracy, e.throughput] for e in items]), [True, True], [0.0, 0.0])


def _result(strategy, evaluate, budget, metrics, accuracy, complete, candidates):  # noqa: ANN001, ANN202
    found = list(evaluate.seen.values())
    front = _frontier(found)
    true = None
    if complete:
        every = [Evaluated(p, float(accuracy(p)), m["images_per_s"], m["utilization"], 0.0)
                 for p, m in metrics.items()]
        true = _hypervolume(_frontier(every))
    best = sorted(found, key=lambda e: -e.rank)[:5]
    return SearchResult(strategy, len(found), budget, front, _hypervolume(front), true, best, candidates)

