"""The survey on a tiny copy of timm's files: join, utilization, frontiers, failures listed, cache."""
from __future__ import annotations

import json

import numpy as np
import pytest

from intensity.explore.store import Store, new_row
from intensity.explore.survey import SURVEY_SPACE, load_published, survey, survey_rows

pytest.importorskip("moocore")
RESULTS = """model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation
test_vit.r160_in1k,160,40.98,59.02,65.0,35.0,0.37,0.875,bicubic
test_vit.other,160,39.00,61.00,65.0,35.0,0.37,0.875,bicubic
test_efficientnet.r160_in1k,160,46.51,53.49,70.0,30.0,0.36,0.95,bicubic
no_such_model_xyz.tag,160,50.00,50.00,70.0,30.0,1.0,0.95,bicubic
test_vit.r160_in1k,224,41.50,58.50,65.0,35.0,0.37,0.875,bicubic
"""
BENCH = """model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,infer_gmacs,infer_macts
test_vit,160,194812.41,5.235,1024,0.37,0.04,0.48
test_efficientnet,160,101000.0,10.1,1024,0.36,0.03,0.5
no_such_model_xyz,160,1000.0,1000.0,1024,1.0,2.0,1.0
unlisted_model,160,1000.0,1000.0,1024,1.0,2.0,1.0
"""


@pytest.fixture
def data(tmp_path):
    (tmp_path / "results-imagenet.csv").write_text(RESULTS)
    (tmp_path / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv").write_text(BENCH)
    return tmp_path


def test_join_keeps_the_best_top1_at_the_benchmarked_size(data):
    models = load_published(data)
    assert [(m.name, m.img_size, m.top1) for m in models] == [
        ("test_vit", 160, 40.98), ("test_efficientnet", 160, 46.51), ("no_such_model_xyz", 160, 50.0)]


def test_survey_utilization_frontiers_failures_and_cache(data, tmp_path):
    key = json.dumps(SURVEY_SPACE, sort_keys=True)
    with Store(tmp_path / "s.db", key) as store:
        result = survey(data, store, limit=3)
    by_name = {m.name: m for m in result.models}
    failed = by_name["no_such_model_xyz"]
    assert failed.error and [m.name for m in result.failed] == ["no_such_model_xyz"]
    # a failed analysis falls back to timm's GMACs: 1000 img/s x 2 x 2e9 flops / 165.2e12
    assert failed.flops_source == "timm"
    assert failed.utilization == pytest.approx(1000 * 4e9 / 165.2e12)
    vit = by_name["test_vit"]
    assert vit.flops_source == "ours" and vit.intensity > 0
    assert vit.utilization == pytest.approx(vit.images_per_s * vit.flops_per_image / 165.2e12)
    assert vit.above_op_byte is (vit.intensity >= result.op_byte)
    assert "test_vit@160" in result.frontiers["images_per_s~top1"]  # the fastest is on it
    with Store(tmp_path / "s.db", key) as store:  # cached: nothing analysed twice
        assert len(store.rows(evaluator="analysis")) == 3
        again = survey(data, store, limit=3)
        assert len(store.rows(evaluator="analysis")) == 3
    assert [m.utilization for m in again.models] == [m.utilization for m in result.models]
    from intensity.report.plots import survey_figure

    figure = survey_figure(result)  # the three frontiers of Fig. 2, one point per model on each
    assert len(figure.axes) == 3 and all(len(ax.collections) == len(result.models) for ax in figure.axes)


def test_survey_bad_input(tmp_path):
    with pytest.raises(ValueError, match="is missing"):
        load_published(tmp_path)
    with pytest.raises(ValueError, match="no timm benchmark"):
        load_published(tmp_path, "a100")


# --- bound, estimate and measurement side by side (issue 18) --------------------------------------
DYNAMO = BENCH.replace("194812.41", "250000.0").replace("101000.0", "150000.0")


def _survey(tmp_path, data, **options):  # noqa: ANN001, ANN202
    with Store(tmp_path / "s.db", json.dumps(SURVEY_SPACE, sort_keys=True)) as store:
        return survey(data, store, limit=2, **options)


def test_each_model_has_its_bound_estimate_and_measurement(data, tmp_path):
    result = _survey(tmp_path, data)
    assert result.runtime == "eager" and result.profile == "rtx4090" and "fitted" in result.profile_source
    for model in result.models:
        assert 0 < model.estimate_images_per_s <= model.bound_images_per_s
        assert 0 < model.estimate_utilization <= model.bound_utilization
        # the bound's utilization: flops per batch / peak / waterline seconds per batch
        assert model.bound_utilization == pytest.approx(
            model.flops_per_image * model.bound_images_per_s / result.peak_flops)
    # how the estimates match the measurements: measured/estimated images/s, per model
    ratios = [m.images_per_s / m.estimate_images_per_s for m in result.models]
    fit = result.fidelity
    assert fit["models"] == 2 and fit["geomean"] == pytest.approx(float(np.exp(np.mean(np.log(ratios)))))
    assert fit["within_25"] == np.mean([abs(r - 1) <= 0.25 for r in ratios])
    rows = survey_rows(result)
    assert rows[0]["measured_per_estimate"] == pytest.approx(ratios[0])
    assert list(rows[0])[:5] == ["model", "top1", "images_per_s", "utilization", "intensity"]  # as before


def test_compiled_reads_the_dynamo_table_and_changes_the_estimate(data, tmp_path):
    eager = _survey(tmp_path, data)
    with pytest.raises(ValueError, match="-dynamo.csv is missing"):
        _survey(tmp_path, data, runtime="compiled")
    (data / "benchmark-infer-amp-nchw-pt291-cu128-4090-dynamo.csv").write_text(DYNAMO)
    compiled = _survey(tmp_path, data, runtime="compiled")
    assert compiled.runtime == "compiled" and compiled.models[0].images_per_s == 250000.0  # timm's compiled figure
    for before, after in zip(eager.models, compiled.models):
        assert after.bound_images_per_s == before.bound_images_per_s
        assert after.estimate_images_per_s != before.estimate_images_per_s
        assert after.estimate_images_per_s <= after.bound_images_per_s


def test_another_profile_costs_no_new_count(data, tmp_path):
    from intensity.analysis.efficiency import EfficiencyProfile

    first = _survey(tmp_path, data)
    slow = EfficiencyProfile("slow", "eager", overhead_us=100.0, source="test")
    with Store(tmp_path / "s.db", json.dumps(SURVEY_SPACE, sort_keys=True)) as store:
        rows = len(store.rows())
        again = survey(data, store, limit=2, profile=slow)
        assert len(store.rows()) == rows  # the stored kernel works served the new profile
    assert again.profile == "slow"
    assert all(a.estimate_images_per_s < b.estimate_images_per_s for a, b in zip(again.models, first.models))


def test_a_store_from_before_estimates_is_completed_not_misread(data, tmp_path):
    """Analyses cached before the bound was stored (no latency_s) are counted again and updated;
    unreadable stored kernel works are counted again; a failed model stays listed."""
    key = json.dumps(SURVEY_SPACE, sort_keys=True)
    with Store(tmp_path / "s.db", key) as store:
        store.add([new_row(key, "test_vit@160", 1024, "fp16", "rtx4090", "analysis",
                           {"flops": 1.0, "bytes": 1.0, "intensity": 1.0, "params": 1, "uncounted": []}),
                   new_row(key, "test_efficientnet@160", 1024, "fp16", "rtx4090", "works:eager", {"kind": ["tensor"]}),
                   new_row(key, "no_such_model_xyz@160", 1024, "fp16", "rtx4090", "analysis", {"error": "old"})])
        result = survey(data, store, limit=3)
        stored = {(r.point, r.evaluator): r.metrics for r in store.rows()}
    vit = result.models[0]
    assert vit.flops_per_image > 1 and stored[("test_vit@160", "analysis")]["latency_s"] > 0
    assert len(stored[("test_efficientnet@160", "works:eager")]["kernels"]["kind"]) > 1
    assert all(0 < m.estimate_images_per_s <= m.bound_images_per_s for m in result.models[:2])
    failed = result.models[2]
    assert failed.error == "old" and failed.estimate_images_per_s is None and result.fidelity["models"] == 2


def test_a_measurement_faster_than_its_bound_is_named(data, tmp_path):
    bench = data / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv"
    bench.write_text(BENCH.replace("194812.41", "1e12"))  # test_vit at a trillion images/s
    result = _survey(tmp_path, data)
    assert result.fidelity["beats_bound"] == 0.5
    assert any(n.startswith("1 measurements beat their bound") and "test_vit@160" in n for n in result.notes)
    assert result.notes[0].startswith("estimate vs measured (eager, 2 models)")
