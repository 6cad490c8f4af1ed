"""Algorithm 1's ranking, and approximate filtering against random sampling (seed 003 4.2-4.5)."""
from __future__ import annotations

import pytest

from intensity.explore.search import analytic_all, neighbours, rank, search
from intensity.explore.spaces import make_space

pytest.importorskip("moocore")


def test_eqn3_ranking_on_a_hand_made_table():
    # r = f_A / 100 x (f_T / G_T)^w with G_T = 175000, w = 0.07
    assert rank(90, 175_000) == pytest.approx(0.9)
    assert rank(80, 350_000) == pytest.approx(0.8 * 2 ** 0.07)  # 0.83977: the faster one wins
    assert rank(80, 350_000, w=0.0) == pytest.approx(0.8)  # w = 0: accuracy alone
    table = {"a": (90, 175_000), "b": (80, 350_000), "c": (70, 1_000_000)}
    order = sorted(table, key=lambda k: -rank(*table[k], g_t=175_000, w=0.07))
    assert order == ["a", "b", "c"]  # c: 0.7 x 5.71^0.07 = 0.789


def test_neighbours_one_step_along_one_axis():
    space = make_space("nats-size")
    assert sorted(neighbours(space, "8:8:8:8:64")) == sorted(
        ["16:8:8:8:64", "8:16:8:8:64", "8:8:16:8:64", "8:8:8:16:64", "8:8:8:8:56"])
    fire = make_space("fire", grid={"base_e": ["64", "128", "256"]})
    assert [p.split(",")[0] for p in neighbours(fire, fire.point(1))] == ["base_e=64", "base_e=256"]


@pytest.fixture(scope="module")
def synthetic_table():
    """Accuracy rising with utilization: the accuracy x throughput frontier is then exactly the
    analytic throughput x utilization frontier (the premise of seed 003 4.4)."""
    space = make_space("nats-size")
    metrics = analytic_all(space, device="a100-40gb", dtype="fp16", batch=1)
    top = max(m["utilization"] for m in metrics.values())
    return space, {p: 50 + 40 * m["utilization"] / top for p, m in metrics.items()}


def test_filtering_finds_the_true_frontier_with_fewer_evaluations_than_random(synthetic_table):
    space, table = synthetic_table
    args = dict(device="a100-40gb", known=list(table))
    filtered = search(space, table.__getitem__, strategy="filter", budget=1000, **args)
    assert filtered.hypervolume == pytest.approx(filtered.true_hypervolume)  # the true frontier
    spent = filtered.candidates  # the members alone suffice here
    exact = search(space, table.__getitem__, strategy="filter", budget=spent, **args)
    assert exact.evaluations == spent < space.size // 100
    assert exact.hypervolume == pytest.approx(exact.true_hypervolume)
    for seed in range(3):  # random sampling with the same budget falls short
        sampled = search(space, table.__getitem__, strategy="random", budget=spent, seed=seed, **args)
        assert sampled.evaluations == spent
        assert sampled.hypervolume < 0.999 * sampled.true_hypervolume


def test_evolution_is_seeded_and_within_budget(synthetic_table):
    pytest.importorskip("optuna")
    space, table = synthetic_table
    runs = [search(space, table.__getitem__, strategy="evolution", budget=30, seed=3,
                   device="a100-40gb") for _ in range(2)]
    assert runs[0].evaluations == 30
    assert [e.point for e in runs[0].frontier] == [e.point for e in runs[1].frontier]


def test_bad_search_input():
    space = make_space("nats-size")
    with pytest.raises(KeyError, match="unknown strategy"):  # a registry: close matches
        search(space, lambda p: 0, strategy="grid", budget=1, device="a100-40gb")
    with pytest.raises(ValueError, match="G_T"):
        search(space, lambda p: 0, strategy="random", budget=1, device="a100-40gb", g_t=0)


def test_budget_hours_stops_the_search():
    space = make_space("fire", grid={"base_e": ["64", "128"]})
    table = {p: 50.0 for p in space.points()}
    result = search(space, table.__getitem__, strategy="random", budget=2, device="a100-40gb",
                    budget_hours=1e-9, known=list(table))
    assert result.evaluations == 0  # the deadline passed before the first evaluation
    with pytest.raises(ValueError, match="--budget-hours must be a finite number > 0"):
        search(space, table.__getitem__, strategy="random", budget=2, device="a100-40gb", budget_hours=0)


def test_a_strategy_is_one_decorated_function():
    """Issue 16: registries for every choice. A strategy registered here is searchable at once."""
    from intensity.explore.search import STRATEGIES

    @STRATEGIES.register("first-two")
    def first_two(space, metrics, evaluate, seed):  # noqa: ANN001, ANN202, ARG001
        """the first two points of the space"""
        for point in list(metrics)[:2]:
            evaluate(point)

    try:
        space = make_space("fire", grid={"base_e": ["64", "128"]})
        table = {p: 50.0 + i for i, p in enumerate(space.points())}
        result = search(space, table.__getitem__, strategy="first-two", budget=5, device="a100-40gb",
                        known=list(table))
        assert result.evaluations == 2 and result.hypervolume_ratio == 1.0
        assert "first-two (the first two points of the space)" in STRATEGIES.choices_help()
    finally:
        STRATEGIES._items.pop("first-two")
