"""Pareto frontiers of two objectives (seed 003 Fig. 1: accuracy, throughput, utilization)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def pareto_front(points: Sequence[tuple[float, float]], maximize: tuple[bool, bool] = (True, True)) -> list[int]:
    """Indices of the points no other point dominates (at least as good in both, better in one)."""
    signs = [1 if m else -1 for m in maximize]
    scored = [(signs[0] * x, signs[1] * y) for x, y in points]

    def dominated(i: int) -> bool:
        xi, yi = scored[i]
        return any(xj >= xi and yj >= yi and (xj > xi or yj > yi) for j, (xj, yj) in enumerate(scored) if j != i)

    return [i for i in range(len(points)) if not dominated(i)]


# --- N objectives, with moocore (seed 003 Fig. 1-2: accuracy, throughput, utilization) ----------
# throughput and latency are the bound's (never beaten); the estimated ones what the runtime will
# likely measure (sweep rows on a GPU device hold both)
OBJECTIVE_ALIASES = {"throughput": "images_per_s", "latency": "latency_s",
                     "estimated_throughput": "estimate_images_per_s", "estimated_latency": "estimate_latency_s"}
ESTIMATE_COLUMNS = ("estimate_images_per_s", "estimate_utilization")  # shown on a frontier when stored


@dataclass(frozen=True)
class Objective:
    name: str  # as the user wrote it (accuracy, throughput, ...)
    metric: str  # the store's metric key
    maximize: bool

    def __str__(self) -> str:
        return f"{self.name}:{'max' if self.maximize else 'min'}"


def parse_objectives(text: str, known: Sequence[str] | None = None) -> list[Objective]:
    """'accuracy:max,throughput:max' -> objectives; `known` metric names are checked when given."""
    objectives = []
    for part in [p.strip() for p in text.split(",")]:
        name, _, sense = part.partition(":")
        if not name or sense not in ("max", "min"):
            raise ValueError(f"malformed objective {part!r}: expected NAME:max or NAME:min, e.g. "
                             f"accuracy:max,throughput:max")
        metric = OBJECTIVE_ALIASES.get(name, name)
        if known is not None and metric not in known:
            raise ValueError(f"unknown objective {name!r}; the results hold "
                             f"{', '.join(sorted(set(known) | {'throughput'}))}")
        objectives.append(Objective(name, metric, sense == "max"))
    if len(objectives) < 2 or len({o.metric for o in objectives}) != len(objectives):
        raise ValueError(f"give two or more distinct objectives, e.g. accuracy:max,throughput:max (got {text!r})")
    return objectives


@dataclass(frozen=True)
class Frontier:
    objectives: list[Objective]
    members: list[int]  # indices into the records, non-dominated
    hypervolume: float
    reference: list[float]  # the hypervolume's reference point (worst corner)


def objective_matrix(records: Sequence[dict], objectives: Sequence[Objective]) -> np.ndarray:
    missing = [o.name for o in objectives if any(r.get(o.metric) is None for r in records)]
    if missing:
        raise ValueError(f"some results lack {', '.join(missing)}; sweep with an evaluator that "
                         f"gives it (accuracy: --evaluator table --table FILE)")
    return np.array([[float(r[o.metric]) for o in objectives] for r in records], dtype=float)


def nondominated(values: np.ndarray, maximize: Sequence[bool]) -> list[int]:
    """Indices of the non-dominated rows (duplicates all kept), by moocore."""
    import moocore

    if len(values) == 0:
        return []
    mask = moocore.is_nondominated(values, maximise=list(maximize), keep_weakly=True)
    return np.flatnonzero(mask).tolist()


def hypervolume(values: np.ndarray, maximize: Sequence[bool], reference: Sequence[float]) -> float:
    """The volume the rows dominate up to `reference` (moocore's exact algorithms)."""
    import moocore

    if len(values) == 0:
        return 0.0
    return float(moocore.hypervolume(values, ref=list(reference), maximise=list(maximize)))


def default_reference(values: np.ndarray, maximize: Sequence[bool]) -> list[float]:
    """0 for a maximised objective (accuracy, throughput and utilization are >= 0), the worst
    value for a minimised one: a fixed corner, so hypervolumes of subsets compare."""
    return [0.0 if m else float(values[:, i].max()) for i, m in enumerate(maximize)]


def frontier(records: Sequence[dict], objectives: Sequence[Objective],
             reference: Sequence[float] | None = None) -> Frontier:
    values = objective_matrix(records, objectives)
    maximize = [o.maximize for o in objectives]
    reference = list(reference) if reference is not None else default_reference(values, maximize)
    members = nondominated(values, maximize)
    return Frontier(list(objectives), members, hypervolume(values[members], maximize, reference),
                    reference)


def frontier_records(records: Sequence[dict], objectives: Sequence[Objective], front: Frontier) -> list[dict]:
    """The frontier's members as records of their point, objectives, intensity, flops and params,
    best first in the second objective (the x axis of seed 003 Fig. 1)."""
    members = sorted((records[i] for i in front.members), key=lambda r: -r[objectives[1].metric])
    guesses = [c for c in ESTIMATE_COLUMNS if any(c in r for r in members)]
    columns = dict.fromkeys(["point", *[o.metric for o in objectives], *guesses, "intensity", "flops", "params"])
    return [{c: r.get(c) for c in columns} for r in members]
