"""Hardware specs: seed op:byte figures, every bundled file, overrides and user files."""
from __future__ import annotations

import pytest

from intensity.hardware import get_spec, list_specs
from intensity.hardware.microbench import measure_bandwidth_gbs, measure_peak_tflops


def test_seed000_op_byte_figures():
    assert round(get_spec("v100").op_byte("fp16")) == 139  # 125e12 / 900e9
    assert round(get_spec("t4").op_byte("fp16")) == 203  # 65e12 / 320e9


def test_tpuv1_op_byte_in_flops_and_in_the_sources_macs():
    spec = get_spec("tpuv1")
    assert round(spec.op_byte("int8")) == 2706  # 92e12 / 34e9 flops per byte
    summary = spec.summary("int8")
    assert round(summary["op_byte_macs"]) == 1353  # seed 000's "1350"


def test_seed004_cmr_of_p100():
    assert round(get_spec("p100-pcie").op_byte("fp32"), 2) == 16.94  # Table IV


def test_required_devices_are_bundled_with_sources():
    keys = {s.key for s in list_specs()}
    assert {"v100", "t4", "a100-40gb", "a100-80gb", "a5000", "a6000", "h100", "h100-pcie", "h200",
            "l4", "p100", "p4000", "tpuv1"} <= keys
    for spec in list_specs():
        assert spec.source and spec.bandwidth_gbs > 0 and spec.peak_tflops


def test_reference_errors_are_avoided():
    # dense, not 2:4-sparse, peaks; H100 SXM bandwidth from the datasheet
    assert get_spec("a100").peak_tflops["fp16"] == 312
    assert get_spec("h100").bandwidth_gbs == 3350
    assert get_spec("h100-pcie").bandwidth_gbs == 2000


def test_overrides_and_missing_dtype():
    spec = get_spec("v100", "fp16", peak_tflops=100, bandwidth_gbs=800)
    assert spec.op_byte("fp16") == pytest.approx(125.0)
    assert spec.summary("fp16")["overrides"]
    with pytest.raises(ValueError, match="v100 has no published bf16 peak"):
        get_spec("v100").op_byte("bf16")
    with pytest.raises(ValueError, match="--bandwidth-gbs must be a positive number"):
        get_spec("v100", bandwidth_gbs=0)


def test_user_spec_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('key = "mine"\nbandwidth_gbs = 100\n[peak_tflops]\nfp16 = 50\n')
    assert get_spec(str(path)).op_byte("fp16") == pytest.approx(500.0)
    broken = tmp_path / "broken.toml"
    broken.write_text('key = "broken"\n[peak_tflops]\nfp16 = 50\n')
    with pytest.raises(ValueError, match="lacks bandwidth_gbs"):
        get_spec(str(broken))
    with pytest.raises(ValueError, match="does not exist"):
        get_spec(str(tmp_path / "none.toml"))


def test_unknown_device_suggests_close_names():
    with pytest.raises(KeyError, match="did you mean 'v100'"):
        get_spec("v1000")


def test_micro_benchmarks_measure_positive_figures():
    assert measure_peak_tflops("fp32", "cpu", size=256, repeats=2) > 0
    assert measure_bandwidth_gbs("cpu", megabytes=16, repeats=2) > 0
