"""The survey on a tiny copy of timm's files: join, utilization, frontiers, failures listed, cache."""
from __future__ import annotations

import json

import pytest

from intensity.explore.store import Store
from intensity.explore.survey import SURVEY_SPACE, load_published, survey

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
