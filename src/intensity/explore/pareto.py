"""Pareto frontiers of two objectives (seed 003 Fig. 1: accuracy, throughput, utilization)."""
from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float, float]], maximize: tuple[bool, bool] = (True, True)) -> list[int]:
    """Indices of the points no other point dominates (at least as good in both, better in one)."""
    signs = [1 if m else -1 for m in maximize]
    scored = [(signs[0] * x, signs[1] * y) for x, y in points]

    def dominated(i: int) -> bool:
        xi, yi = scored[i]
        return any(xj >= xi and yj >= yi and (xj > xi or yj > yi) for j, (xj, yj) in enumerate(scored) if j != i)

    return [i for i in range(len(points)) if not dominated(i)]
