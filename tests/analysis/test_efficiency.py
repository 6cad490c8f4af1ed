"""The estimate's kernel model (analysis/efficiency.py), checked against hand arithmetic.

Toy GPU: 100 TFLOP/s fp16 tensor peak, 25 TFLOP/s without tensor cores (both at the 1,000 MHz
boost clock), base clock 800 MHz (sustained ratio 0.8), 1,000 GB/s, 4 SMs: 4 x 800e6 = 3.2e9 SM
cycles per second.
Profile: tensor 0.5, vector 0.5, memory 0.8 (800 GB/s); tensor kernels issue at most 100 bytes per
SM cycle = 320 GB/s; 2 us per kernel. So a tensor kernel moves at most 320 GB/s, vector and stream
kernels 800 GB/s; tensor compute runs at 100e12 x 0.8 x 0.5 = 40e12 flop/s, vector at
25e12 x 0.8 x 0.5 = 10e12.
"""
from __future__ import annotations

import json

import pytest

from intensity.analysis.efficiency import (
    STREAM, TENSOR, VECTOR, EfficiencyProfile, compiled_kernels, estimate, kernel_time, kernel_work,
    load_profile, profile_for, tile_efficiency,
)
from intensity.analysis.predict import predict
from intensity.cost.fusion import Kernel
from intensity.hardware import get_spec
from intensity.hardware.spec import HardwareSpec

SPEC = HardwareSpec(key="toy", name="toy", peak_tflops={"fp16": 100.0}, bandwidth_gbs=1000.0, source="test",
                    vector_tflops={"fp16": 25.0}, sms=4, base_clock_mhz=800, boost_clock_mhz=1000)
PROFILE = EfficiencyProfile(name="toy", tensor_efficiency=0.5, vector_efficiency=0.5, memory_efficiency=0.8,
                            tensor_issue_bytes=100, overhead_us=2.0)


def conv(channels: int, groups: int = 1, fused: list[str] | None = None) -> Kernel:
    """A 3x3 stride-1 conv on 8 x channels x 16 x 16 fp16, `groups` groups."""
    act = 8 * channels * 16 * 16
    weights = channels * (channels // groups) * 9
    flops = 2 * act * (channels // groups) * 9
    return Kernel("conv", "conv", "", fused or [], [8, channels, 16, 16], [channels, channels // groups, 3, 3],
                  [8, channels, 16, 16], flops, weights, act, weights, act, 2 * act, 2 * weights, 2 * act)


def relu(channels: int = 64) -> Kernel:
    act = 8 * channels * 16 * 16
    return Kernel("relu", "act", "relu", [], [8, channels, 16, 16], [], [8, channels, 16, 16], 0, 0, act, 0, act,
                  2 * act, 0, 2 * act)


def test_dense_conv_runs_on_tensor_cores_with_full_tiles():
    work = kernel_work(conv(64))
    # GEMM: M = 8 x 16 x 16 = 2048 (16 tiles of 128), N = 64 (one tile), K = 64 x 9 = 576 (18 x 32)
    assert (work.kind, work.m, work.n, work.k, work.groups) == (TENSOR, 2048, 64, 576, 1)
    # 16 tiles on 4 SMs = 4 full waves
    assert tile_efficiency(work, SPEC.sms) == 1.0
    # flops 2 x 8 x 64 x 256 x 576 = 150,994,944 at 40e12 = 3.7749e-6 s;
    # bytes 262,144 + 73,728 + 262,144 = 598,016 at 320e9 (issue-limited) = 1.8688e-6 s (less); + 2 us
    assert kernel_time(work, PROFILE, SPEC, "fp16") == pytest.approx(150_994_944 / 40e12 + 2e-6)


def test_sixteen_channel_conv_wastes_most_of_a_tile():
    work = kernel_work(conv(16))
    # N = 16 of a 64-wide tile: 0.25; K = 16 x 9 = 144 padded to 160: 0.9; M = 2048: 16 tiles, 4 waves
    assert tile_efficiency(work, SPEC.sms) == pytest.approx(0.25 * 0.9)
    flops = 2 * 8 * 16 * 256 * 144  # 9,437,184
    # 1.0486e-6 s; its 135,680 bytes at 320e9 take 4.24e-7 s (less)
    assert kernel_time(work, PROFILE, SPEC, "fp16") == pytest.approx(flops / (40e12 * 0.225) + 2e-6)


def test_last_wave_leaves_sms_idle():
    work = kernel_work(conv(64))
    # 16 tiles on 5 SMs: 4 waves of 5 slots, 16 used: 0.8
    assert tile_efficiency(work, 5) == pytest.approx(16 / 20)


def test_depthwise_conv_runs_on_cuda_cores_and_is_memory_bound():
    work = kernel_work(conv(64, groups=64))
    assert work.kind == VECTOR
    # flops 2 x 8 x 64 x 256 x 9 = 2,359,296 at 10e12 = 2.359e-7 s;
    # bytes 262,144 + 1,152 + 262,144 = 525,440 at 800e9 = 6.568e-7 s (more); + 2 us
    assert kernel_time(work, PROFILE, SPEC, "fp16") == pytest.approx(525_440 / 0.8e12 + 2e-6)


def test_elementwise_op_only_moves_bytes():
    work = kernel_work(relu())
    assert work.kind == STREAM
    # 262,144 read + 262,144 written at 800e9 + 2 us
    assert kernel_time(work, PROFILE, SPEC, "fp16") == pytest.approx(524_288 / 0.8e12 + 2e-6)


def test_a_gpu_with_fewer_sms_issues_fewer_bytes_per_tensor_kernel():
    import dataclasses

    work = kernel_work(conv(64))
    # 1 SM: 100 x 1 x 800e6 = 80 GB/s; the conv's 598,016 bytes take 7.475e-6 s, more than its
    # 3.7749e-6 s of compute (16 tiles in 16 waves on one SM: no tile loss)
    one_sm = dataclasses.replace(SPEC, sms=1)
    assert kernel_time(work, PROFILE, one_sm, "fp16") == pytest.approx(598_016 / 80e9 + 2e-6)
    # elementwise kernels are not issue-limited: DRAM's 800 GB/s still
    assert kernel_time(kernel_work(relu()), PROFILE, one_sm, "fp16") == pytest.approx(524_288 / 0.8e12 + 2e-6)
    # no clocks in the spec: no issue limit and no clock scaling (peak x 0.5 = 50e12 flop/s)
    unclocked = dataclasses.replace(one_sm, base_clock_mhz=None, boost_clock_mhz=None)
    assert kernel_time(work, PROFILE, unclocked, "fp16") == pytest.approx(150_994_944 / 50e12 + 2e-6)


def test_compiled_runtime_splits_a_fused_epilogue_into_a_generated_kernel():
    works = compiled_kernels([conv(64, fused=["batch_norm", "add", "relu"])])
    # the conv, then one pointwise kernel: reads the conv output and the residual, writes the result
    assert [w.kind for w in works] == [TENSOR, STREAM]
    assert works[1].bytes == 3 * 262_144


def test_estimate_sums_kernels_and_reports_efficiency():
    works = [kernel_work(conv(64)), kernel_work(relu())]
    result = estimate(works, PROFILE, SPEC, "fp16")
    assert result.latency == pytest.approx(150_994_944 / 40e12 + 2e-6 + 524_288 / 0.8e12 + 2e-6)
    assert result.efficiency == pytest.approx(150_994_944 / 100e12 / result.latency)


@pytest.mark.parametrize("model", ["noscope-coral", "squeezenet1_0", "timm:mobilenetv3_small_100"])
@pytest.mark.parametrize("runtime", ["eager", "compiled"])
def test_an_estimate_is_never_faster_than_the_bound(model, runtime):
    prediction = predict(model, device="rtx4090", batch=64, runtime=runtime)
    assert prediction.estimated_images_per_s <= prediction.images_per_s


def test_a_gpu_without_a_fitted_profile_gets_a_transferred_one_and_says_so():
    profile = profile_for(get_spec("h100", "fp16"), "eager")
    assert "h100" in profile.name and "no fitted profile" in profile.source


def test_cpu_devices_get_no_gpu_estimate_and_a_reason():
    from intensity.hardware.timing import Benchmark

    spec = HardwareSpec(key="cpu", name="cpu", peak_tflops={"fp32": 0.1}, bandwidth_gbs=10, source="t",
                        benchmarks=(Benchmark("cpu fp32 matmul peak", "TFLOP/s", 0.1, (0.1,), 1, 0.1),))  # measured
    prediction = predict("noscope-coral", device=spec, dtype="fp32")
    assert prediction.estimate is None and "CPU" in prediction.estimate_note


def test_a_profile_file_round_trips_and_bad_ones_are_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(PROFILE.to_dict()))
    assert load_profile(path) == PROFILE
    path.write_text(json.dumps({**PROFILE.to_dict(), "tensor_efficiency": 1.5}))
    with pytest.raises(ValueError, match="tensor_efficiency = 1.5 must be a fraction"):
        load_profile(path)
    path.write_text(json.dumps({**PROFILE.to_dict(), "tensor_issue_bytes": 0}))
    with pytest.raises(ValueError, match="tensor_issue_bytes = 0 must be a positive number"):
        load_profile(path)
    old = {k: v for k, v in PROFILE.to_dict().items() if "issue" not in k and k != "memory_efficiency"}
    path.write_text(json.dumps({**old, "tensor_memory_efficiency": 0.3}))  # written before clocks
    with pytest.raises(ValueError, match="written by an older intensity.*fit it again"):
        load_profile(path)
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a JSON object"):
        load_profile(path)
    with pytest.raises(ValueError, match="does not exist"):
        load_profile(tmp_path / "missing.json")


def test_unknown_runtime_is_refused():
    with pytest.raises(ValueError, match="unknown `runtime` 'jit'"):
        predict("noscope-coral", device="rtx4090", runtime="jit")


def test_a_profile_for_a_device_without_a_gpu_estimate_is_refused_not_ignored():
    with pytest.raises(ValueError, match="has no GPU estimate; leave out --profile"):
        predict("noscope-coral", device="calibrated:nowhere.json", dtype="fp32", profile="p.json")


def test_a_profile_of_the_wrong_type_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="`profile` must be a JSON file path"):
        predict("noscope-coral", device="a100", dtype="fp16", profile=5)


def test_kernel_times_of_many_networks_at_once_equal_one_by_one():
    """class_time and gemm_tile_efficiency take numpy arrays (a closed-form sweep's kernel across
    networks) and give each network's float exactly."""
    import numpy as np

    from intensity.analysis.efficiency import class_time, gemm_tile_efficiency

    works = [kernel_work(conv(c)) for c in (16, 24, 64)]
    m, n, k, groups = (np.array([getattr(w, f) for w in works]) for f in ("m", "n", "k", "groups"))
    tiles = gemm_tile_efficiency(m, n, k, groups, SPEC.sms)
    flops, nbytes = np.array([w.flops for w in works]), np.array([w.bytes for w in works])
    times = class_time(TENSOR, flops, nbytes, tiles, PROFILE, SPEC, "fp16")
    assert times.tolist() == [kernel_time(w, PROFILE, SPEC, "fp16") for w in works]


def test_kernel_works_round_trip_through_stored_columns():
    from intensity.analysis.efficiency import works_from_columns, works_to_columns

    works = [kernel_work(conv(16)), kernel_work(conv(64, groups=64)), kernel_work(relu())]
    columns = json.loads(json.dumps(works_to_columns(works)))  # as a results store keeps them
    back = works_from_columns(columns)
    assert [estimate(back, PROFILE, SPEC, "fp16").latency] == [estimate(works, PROFILE, SPEC, "fp16").latency]
    with pytest.raises(ValueError, match="lack column m"):
        works_from_columns({k: v for k, v in columns.items() if k != "m"})
    with pytest.raises(ValueError, match="unequal lengths"):
        works_from_columns({**columns, "k": columns["k"][:1]})


def test_compiled_estimate_points_to_the_inductor_bound():
    """torch.compile beats the `trivial` bound on pointwise chains: the note says which bound holds."""
    compiled = predict("noscope-coral", device="rtx4090", batch=64, runtime="compiled")
    assert "--fusion inductor" in compiled.estimate_note
    bounded = predict("noscope-coral", device="rtx4090", batch=64, runtime="compiled", fusion="inductor")
    assert "--fusion inductor" not in bounded.estimate_note
    assert bounded.estimated_images_per_s <= bounded.images_per_s
    eager = predict("noscope-coral", device="rtx4090", batch=64)
    assert "inductor" not in eager.estimate_note


def test_the_note_says_which_clock_the_estimate_assumed(tmp_path):
    assert "2235 MHz base clock (89% of the peaks)" in predict("noscope-coral", device="rtx4090").estimate_note
    path = tmp_path / "mine.toml"  # a user's GPU without clocks: said, not silently optimistic
    path.write_text('key = "mine"\nbandwidth_gbs = 900\nsms = 80\n[peak_tflops]\nfp16 = 100\n')
    assert "gives no base_clock_mhz" in predict("noscope-coral", device=str(path)).estimate_note


def test_a_base_clock_far_below_boost_is_flagged_as_a_worst_case():
    # T4: 585 of 1,590 MHz (37%)
    assert "may be pessimistic" in predict("noscope-coral", device="t4").estimate_note
    assert "may be pessimistic" not in predict("noscope-coral", device="h100").estimate_note


def test_an_overridden_gpu_says_why_its_fitted_profile_does_not_apply():
    spec = get_spec("rtx4090", "fp16").with_overrides("fp16", peak_tflops=100)
    profile = profile_for(spec, "eager")
    assert "figures are overridden (peak 100" in profile.source and "no fitted profile" not in profile.source
