from __future__ import annotations

from intensity.explore.pareto import pareto_front


def test_pareto_front_keeps_the_non_dominated_points():
    # (throughput, accuracy): (1, 9) and (9, 1) and (5, 5) trade off; (4, 4) is dominated by (5, 5)
    points = [(1, 9), (9, 1), (5, 5), (4, 4), (5, 5)]
    assert pareto_front(points) == [0, 1, 2, 4]  # ties are not dominated
    # minimising the second objective (e.g. latency): (9, 1) dominates everything with x <= 9
    assert pareto_front(points, maximize=(True, False)) == [1]
