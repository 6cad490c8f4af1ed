"""Sweep rows carry the estimate beside the bound (issue 18): closed form equal to tracing, never
faster than the bound, chosen by runtime and profile, and given to stored rows that lack it."""
from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from intensity.analysis.efficiency import EfficiencyProfile, profile_for
from intensity.explore.analytic import ESTIMATE_METRICS, nats_metrics, predicted_metrics
from intensity.explore.evaluators import make_evaluator
from intensity.explore.spaces import make_space, nats_arch
from intensity.explore.store import Store, new_row
from intensity.explore.sweep import sweep
from intensity.hardware import get_spec

POINTS = ["0", "11", "4000"]


@pytest.mark.parametrize("runtime", ["eager", "compiled"])
def test_closed_form_estimate_equals_tracing(runtime):
    space, spec = make_space("nats-size"), get_spec("a100-40gb", "fp16")
    profile = profile_for(spec, runtime)
    indices = [0, 11, 4000, 32767]
    fast = nats_metrics(space, np.array(indices), spec=spec, dtype="fp16", batch=2, runtime=runtime,
                        profile=profile)
    for index in indices:
        exact = predicted_metrics(space, nats_arch(index), device=spec, dtype="fp16", batch=2, runtime=runtime,
                                  profile=profile)
        assert fast[index] == exact, index  # the estimate too, floats bit for bit
        assert exact["estimate_runtime"] == runtime and exact["estimate_profile"] == profile.name


def _rows(store: Store) -> dict:
    return {(r.point, r.batch): r.metrics for r in store.rows()}


def test_rows_hold_an_estimate_never_faster_than_the_bound(tmp_path):
    space = make_space("nats-size")
    with Store(tmp_path / "r.db", space.key) as store:
        eager = sweep(space, store, device="a100-40gb", batches=[1, 64], points=POINTS)
        rows = _rows(store)
    assert (eager.runtime, eager.profile) == ("eager", "a100-40gb (datasheet)")
    assert eager.notes[-1].startswith("estimate_*: what eager PyTorch will likely measure")
    for metrics in rows.values():
        assert set(ESTIMATE_METRICS) <= set(metrics)
        assert 0 < metrics["estimate_images_per_s"] <= metrics["images_per_s"]
        assert metrics["estimate_latency_s"] >= metrics["latency_s"]
        assert metrics["estimate_utilization"] <= metrics["utilization"]


def test_compiled_runtime_and_a_profile_change_the_estimate_of_stored_rows(tmp_path):
    space = make_space("nats-size")
    slow = EfficiencyProfile("slow", "eager", tensor_efficiency=0.1, overhead_us=50.0, source="test")
    profile = tmp_path / "slow.json"
    profile.write_text(json.dumps(slow.to_dict()))
    with Store(tmp_path / "r.db", space.key) as store:
        sweep(space, store, device="a100-40gb", points=POINTS)
        eager = _rows(store)
        compiled = sweep(space, store, device="a100-40gb", points=POINTS, runtime="compiled")
        after = _rows(store)
        mine = sweep(space, store, device="a100-40gb", points=POINTS, profile=str(profile))
        slowed = _rows(store)
    assert (compiled.added, compiled.skipped, compiled.refreshed) == (0, 3, 3)  # updated in place
    for key, metrics in after.items():
        assert metrics["estimate_runtime"] == "compiled"
        # compiled fuses the epilogues the eager runtime launches one by one: faster, never past the bound
        assert eager[key]["estimate_images_per_s"] < metrics["estimate_images_per_s"] <= metrics["images_per_s"]
        assert metrics["images_per_s"] == eager[key]["images_per_s"]  # the bound is unchanged
    assert mine.refreshed == 3 and mine.profile == "slow"
    for key, metrics in slowed.items():  # 50 us per kernel: far slower than the shipped transfer profile
        assert metrics["estimate_profile"] == "slow"
        assert metrics["estimate_images_per_s"] < eager[key]["estimate_images_per_s"]


def test_a_store_from_before_estimates_resumes_and_gets_them(tmp_path):
    """An old store: schema 1, rows without estimate_* (one with an accuracy). Resuming keeps the
    accuracy, adds the estimate in place, adds only the missing point and marks the schema 2."""
    space, path = make_space("nats-size"), tmp_path / "old.db"
    with Store(path, space.key) as store:
        sweep(space, store, device="a100-40gb", points=["0", "11"])
    with sqlite3.connect(path) as conn:  # rewrite it as the version before estimates wrote it
        conn.execute("update meta set value = '1' where key = 'schema'")
        for point, metrics in conn.execute("select point, metrics from results").fetchall():
            old = {k: v for k, v in json.loads(metrics).items() if not k.startswith("estimate_")}
            old.update({"accuracy": 79.79} if point == "8:8:8:8:8" else {})
            conn.execute("update results set metrics = ? where point = ?", (json.dumps(old), point))
    with Store(path, space.key) as store:
        result = sweep(space, store, device="a100-40gb", points=["0", "11", "4000"])
        rows = {r.point: r.metrics for r in store.rows()}
        schema = store.conn.execute("select value from meta where key = 'schema'").fetchone()[0]
    assert (result.added, result.skipped, result.refreshed) == (1, 2, 2) and schema == "2"
    assert rows["8:8:8:8:8"]["accuracy"] == 79.79
    assert all(0 < m["estimate_images_per_s"] <= m["images_per_s"] for m in rows.values())


def test_a_store_of_a_newer_schema_is_refused(tmp_path):
    space, path = make_space("nats-size"), tmp_path / "new.db"
    with Store(path, space.key) as store:
        store.add([new_row(space.key, "8:8:8:8:8", 1, "fp16", "a100-40gb", "analytic", {"flops": 1})])
    with sqlite3.connect(path) as conn:
        conn.execute("update meta set value = '3' where key = 'schema'")
    with pytest.raises(ValueError, match="schema 3, newer than this intensity's"):
        Store(path, space.key)


def test_update_of_a_row_not_stored_is_an_error(tmp_path):
    space = make_space("nats-size")
    with Store(tmp_path / "u.db", space.key) as store:
        with pytest.raises(KeyError, match="no stored row"):
            store.update([new_row(space.key, "8:8:8:8:8", 1, "fp16", "a100-40gb", "analytic", {})])


def test_trained_and_table_rows_keep_their_accuracy_and_grid_spaces_trace_the_estimate(tmp_path):
    space = make_space("squeezenet1_1", grid={"num_classes": ["10", "100"]})
    table = tmp_path / "acc.csv"
    table.write_text("point,accuracy\nnum_classes=10,50\nnum_classes=100,40\n")
    judge = make_evaluator("table", space, table)
    with Store(tmp_path / "g.db", space.key) as store:
        sweep(space, store, device="h100", evaluator=judge)
        again = sweep(space, store, device="h100", evaluator=judge, runtime="compiled")
        rows = {r.point: r.metrics for r in store.rows()}
    assert again.refreshed == 2
    assert {p: m["accuracy"] for p, m in rows.items()} == {"num_classes=10": 50.0, "num_classes=100": 40.0}
    assert all(m["estimate_runtime"] == "compiled" and m["estimate_images_per_s"] <= m["images_per_s"]
               for m in rows.values())


def test_bad_runtime_and_profile(tmp_path):
    space = make_space("nats-size")
    with Store(tmp_path / "b.db", space.key) as store:
        with pytest.raises(ValueError, match="unknown `runtime` 'jit'"):
            sweep(space, store, device="a100-40gb", points=["0"], runtime="jit")
        with pytest.raises(ValueError, match="`profile`: efficiency profile .* does not exist"):
            sweep(space, store, device="a100-40gb", points=["0"], profile=str(tmp_path / "none.json"))
        assert store.rows() == []


def test_on_a_calibrated_device_rows_keep_the_roofline_as_bound_and_the_calibration_as_estimate(tmp_path):
    from intensity.analysis.predict import predict
    from intensity.hardware.calibration import spec_from_calibration
    from tests.analysis.test_calibrated import narrow_calibration

    spec = spec_from_calibration(narrow_calibration())
    space = make_space("nats-size")
    row = predicted_metrics(space, "8:8:8:8:8", device=spec, dtype="fp32", batch=4)
    p = predict(space.build("8:8:8:8:8"), device=spec, dtype="fp32", batch=4, input_shape=space.input_shape)
    assert row["latency_s"] == pytest.approx(p.roofline.latency)  # was the calibrated time, labelled the bound
    assert row["estimate_latency_s"] == pytest.approx(p.line.latency) and p.line.latency > row["latency_s"]
    assert (row["estimate_runtime"], row["estimate_profile"]) == ("eager", "calibrated")
    with Store(tmp_path / "c.db", space.key) as store:
        result = sweep(space, store, device=spec, dtype="fp32", points=["8:8:8:8:8"])
        stored = _rows(store)
    assert any("kernel times" in note for note in result.notes)
    assert [m["estimate_profile"] for m in stored.values()] == ["calibrated"]
