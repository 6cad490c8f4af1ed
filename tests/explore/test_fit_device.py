"""Fitting an efficiency profile to published measurements (explore/fit_device.py)."""
from __future__ import annotations

import numpy as np
import pytest

from intensity.analysis.efficiency import CLASSES, EfficiencyProfile
from intensity.explore.fit_device import (
    KernelTable, PublishedRow, Sample, collect, cross_validate, design, fidelity, fit, load_published,
    model_family, predicted_seconds, transfer,
)
from intensity.hardware.spec import HardwareSpec

# 64 SMs at an 800 MHz base clock: 5.12e10 SM cycles/s. At TRUE, tensor kernels issue 8 x 5.12e10
# = 410 GB/s, below the DRAM's 0.85 x 1,000 GB/s that vector and stream kernels reach. SMALL has 16
# SMs (tensor kernels: 102 GB/s) and a quarter of the peaks.
SPEC = HardwareSpec(key="toy", name="toy", peak_tflops={"fp16": 100.0}, bandwidth_gbs=1000.0, source="t",
                    vector_tflops={"fp16": 25.0}, sms=64, base_clock_mhz=800, boost_clock_mhz=1000)
SMALL = HardwareSpec(key="small", name="small", peak_tflops={"fp16": 25.0}, bandwidth_gbs=1000.0, source="t",
                     vector_tflops={"fp16": 6.25}, sms=16, base_clock_mhz=800, boost_clock_mhz=1000)
TRUE = {"tensor_efficiency": 0.62, "vector_efficiency": 0.3, "memory_efficiency": 0.85,
        "tensor_issue_bytes": 8.0, "overhead_us": 4.0}


def synthetic_samples(count: int = 40, seed: int = 0, spec: HardwareSpec = SPEC) -> list[Sample]:
    """Random kernel tables whose 'measured' times are the model's own, at known parameters: kernels
    of every class, compute- and memory-bound, and models of 5-80 kernels (so the overhead shows)."""
    rng = np.random.default_rng(seed)
    samples = []
    for index in range(count):
        kernels = int(rng.integers(5, 80))
        kind = [CLASSES[i] for i in rng.integers(0, 3, kernels)]
        intensity = 10 ** rng.uniform(0, 3, kernels)  # flop/B from 1 to 1000
        act = 10 ** rng.uniform(4, 7, kernels) / 128  # bytes per image
        flops = [0.0 if k == "stream" else a * i for k, a, i in zip(kind, act, intensity)]
        name = "net" + "".join(chr(97 + int(d)) for d in str(index))  # one family per model
        table = KernelTable(name, 224, "eager", kind, flops, list(act), [0.0] * kernels,
                            [1024 * 8] * kernels, [256] * kernels, [512] * kernels, [1] * kernels, False)
        samples.append(Sample(PublishedRow(name, 224, 128, 1.0), table))
    seconds = predicted_seconds(design(samples, spec), TRUE)
    return [Sample(PublishedRow(s.row.model, 224, 128, 128 / t), s.table) for s, t in zip(samples, seconds)]


def test_the_fit_recovers_known_parameters_from_synthetic_measurements():
    profile = fit(design(synthetic_samples(), SPEC), "toy", "eager")
    for name, value in TRUE.items():
        assert getattr(profile, name) == pytest.approx(value, rel=0.05), name


def test_cross_validation_by_family_predicts_held_out_models():
    result = cross_validate(synthetic_samples(36), SPEC, "eager", folds=3)
    assert result["within_10"] > 0.95 and "beats_bound" not in result  # e9248fc: no bound in cross-validation


def test_fidelity_figures_by_hand():
    measured = np.array([1.0, 2.0, 4.0])  # seconds per batch
    estimated = np.array([1.0, 2.15, 3.0])  # ratios (measured img/s over estimated) 1.0, 1.075, 0.75
    result = fidelity(measured, estimated, bound=np.array([0.5, 2.1, 1.0]))
    assert result["within_10"] == pytest.approx(2 / 3)  # 1.0 and 1.075
    assert result["within_25"] == pytest.approx(1.0)
    assert result["geomean"] == pytest.approx((1.0 * 1.075 * 0.75) ** (1 / 3))
    assert result["beats_bound"] == pytest.approx(1 / 3)  # 2.0 s measured < 2.1 s bound


def test_transfer_fits_one_profile_to_several_gpus():
    designs = {"toy": design(synthetic_samples(), SPEC), "small": design(synthetic_samples(30, 1, SMALL), SMALL)}
    profile = transfer(designs, "x (datasheet)", "eager")
    for name, value in TRUE.items():
        assert getattr(profile, name) == pytest.approx(value, rel=0.05), name
    assert "70 published measurements on toy, small" in profile.source
    with pytest.raises(ValueError, match="at least one fitted GPU"):
        transfer({}, "x", "eager")


def test_families_keep_variants_together():
    assert model_family("resnet50d") == model_family("resnet18") == "resnet"
    assert model_family("tf_efficientnet_b0") == model_family("efficientnet_b3") == "efficientnet"


def test_published_tables_with_missing_columns_or_gpus_are_refused(tmp_path):
    (tmp_path / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv").write_text("model,infer_img_size\nresnet50,224\n")
    with pytest.raises(ValueError, match="lacks column infer_samples_per_sec"):
        load_published(tmp_path, "rtx4090", "eager")
    with pytest.raises(ValueError, match="no published timm table for `gpu` 'v100'"):
        load_published(tmp_path, "v100", "eager")
    with pytest.raises(ValueError, match="is missing"):
        load_published(tmp_path, "rtx5090", "eager")


def test_rows_that_did_not_run_and_models_timm_cannot_build_are_listed(tmp_path):
    (tmp_path / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv").write_text(
        "model,infer_img_size,infer_samples_per_sec,infer_batch_size\n"
        "resnet18,224,0,1024\nno_such_model_xyz,224,100.0,256\n")
    published = load_published(tmp_path, "rtx4090", "eager")
    assert published.skipped == ["resnet18: did not run (no images/s)"]
    samples, failed = collect(published.rows, "eager", None)
    assert samples == [] and failed[0].startswith("no_such_model_xyz: UnknownNameError")


def test_kernel_tables_count_the_autocast_pass_and_weight_casts_do_not_scale_with_the_batch():
    from intensity.explore.fit_device import analyse_table

    table = analyse_table("test_efficientnet_gn", 160, "eager")
    # autocast: every conv's fp32 weight gets an fp16 copy, a kernel that reads and writes only
    # weight bytes (4 + 2 per element), so all of it is batch-free
    casts = [i for i, (a, w) in enumerate(zip(table.activation_bytes, table.weight_bytes)) if w and not a]
    assert casts and all(table.kind[i] == "stream" for i in casts)
    eight, sixteen = table.works(8), table.works(16)  # the table is counted at batch 8
    assert all(eight[i].bytes == sixteen[i].bytes for i in casts)
    half = [i for i, a in enumerate(table.activation_bytes) if a]
    assert all(sixteen[i].bytes > eight[i].bytes for i in half)


def test_fast_norm_counts_group_norm_at_fp16_in_one_kernel_and_restores_timm():
    import timm.layers

    from intensity.explore.fit_device import analyse_table, has_fast_norm_layers, timm_fast_norm

    plain = analyse_table("test_efficientnet_gn", 160, "eager")
    fast = analyse_table("test_efficientnet_gn", 160, "eager", fast_norm=True)
    # native autocast: cast to fp32 (read 2 B, write 4 B per element), GroupNorm in fp32 (4 + 4),
    # then the next op reads fp32; --fast-norm: one fp16 GroupNorm (2 + 2), no casts
    assert len(fast.kind) < len(plain.kind)
    assert sum(fast.activation_bytes) < 0.8 * sum(plain.activation_bytes)
    assert sum(fast.flops) == pytest.approx(sum(plain.flops), rel=0.01)
    assert not timm.layers.is_fast_norm()
    with timm_fast_norm(True):
        assert timm.layers.is_fast_norm()
    assert not timm.layers.is_fast_norm()
    assert has_fast_norm_layers("test_efficientnet_gn") and not has_fast_norm_layers("resnet18")


def test_the_tables_measured_with_fast_norm_are_marked(tmp_path, monkeypatch):
    import intensity.explore.fit_device as F

    monkeypatch.setattr(F, "FAST_NORM", {("rtx4090", "eager")})
    header = "model,infer_img_size,infer_samples_per_sec,infer_batch_size\nresnet18,224,10.0,256\n"
    for name in ("benchmark-infer-amp-nchw-pt291-cu128-4090.csv", "benchmark-infer-amp-nchw-pt291-cu130-5090.csv",
                 "benchmark-infer-amp-nchw-pt291-cu128-4090-dynamo.csv"):
        (tmp_path / name).write_text(header)
    assert load_published(tmp_path, "rtx4090", "eager").fast_norm
    assert not load_published(tmp_path, "rtx5090", "eager").fast_norm
    assert not load_published(tmp_path, "rtx4090", "compiled").fast_norm


def test_a_fast_norm_count_of_a_model_without_such_layers_is_its_plain_count(tmp_path):
    from intensity.explore.fit_device import cached_table

    fast = cached_table("resnet18", 64, "eager", tmp_path, fast_norm=True)
    assert fast == cached_table("resnet18", 64, "eager", tmp_path)
    assert sorted(p.parent.name for p in tmp_path.rglob("*.json")) == ["deploy", "deploy-fast-norm"]
