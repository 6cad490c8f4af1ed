from __future__ import annotations

import pytest

from intensity.explore.evaluators import make_evaluator
from intensity.explore.spaces import make_space
from intensity.explore.store import Store
from intensity.explore.sweep import sweep


def test_measured_sweep_times_each_point_on_cpu(tmp_path):
    space = make_space("nats-size")
    with Store(tmp_path / "m.db", space.key) as store:
        result = sweep(space, store, device="a100-40gb", dtype="fp32", points=["0"],
                       measure={"on": "cpu", "iters": 1, "trials": 1, "threads": 1})
        (row,) = store.rows()
    assert result.evaluator == "measured-cpu" and row.evaluator == "measured-cpu"
    metrics = row.metrics
    assert metrics["measured_images_per_s"] > 0 and metrics["measured_threads"] == 1
    # utilization = images/s x flops per image / peak (A100 fp32 19.5 TFLOP/s)
    assert metrics["measured_utilization"] == pytest.approx(
        metrics["measured_images_per_s"] * metrics["flops"] / 19.5e12)


def test_grid_space_sweep_resumes_and_batches(tmp_path):
    space = make_space("squeezenet1_1", grid={"num_classes": ["10", "100"]})
    with Store(tmp_path / "g.db", space.key) as store:
        first = sweep(space, store, device="a100-40gb", batches=[1, 2], points=["num_classes=10"])
        again = sweep(space, store, device="a100-40gb", batches=[1, 2])
        rows = store.rows()
    assert (first.added, again.added, again.skipped) == (2, 2, 2)
    by = {(r.point, r.batch): r.metrics for r in rows}
    # conv10 of v1.1: 512 -> classes 1x1 with bias: 90 more classes x 513 parameters
    assert by[("num_classes=100", 1)]["params"] - by[("num_classes=10", 1)]["params"] == 90 * 513
    assert by[("num_classes=10", 2)]["flops"] == 2 * by[("num_classes=10", 1)]["flops"]


def test_bad_sweep_input(tmp_path):
    space = make_space("fire")
    with Store(tmp_path / "b.db", space.key) as store:
        with pytest.raises(ValueError, match="closed-form method covers nats-size only"):
            sweep(space, store, device="a100-40gb", method="closed-form")
        with pytest.raises(ValueError, match="not in space fire"):
            sweep(space, store, device="a100-40gb", points=["base_e=1"])
    with pytest.raises(ValueError, match="train evaluator needs `data`"):
        make_evaluator("train", space)
    with pytest.raises(KeyError, match="unknown evaluator"):  # a registry: close matches
        make_evaluator("oracle", space)
