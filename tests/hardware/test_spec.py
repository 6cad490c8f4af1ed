"""Hardware specs: seed op:byte figures, every bundled file, overrides and user files."""
from __future__ import annotations

import pytest

from intensity.hardware import get_spec, list_specs


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
    with pytest.raises(ValueError, match="`bandwidth_gbs` must be a positive number"):
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


@pytest.mark.parametrize(("body", "message"), [
    ('fp16 = 0', r"peak_tflops.fp16 = 0 is not a positive number"),
    ('fp16 = -5', r"peak_tflops.fp16 = -5 is not a positive number"),
    ('fp16 = "fast"', r"peak_tflops.fp16 = 'fast' is not a positive number; write a number without quotes, e.g. fp16 = 125"),
    ('fp16 = nan', r"peak_tflops.fp16 = nan is not a positive number"),
    ('fp16 = true', r"peak_tflops.fp16 = True is not a positive number"),
    ('fp99 = 5', r"peak_tflops.fp99 names no dtype; use fp32"),
])
def test_spec_file_with_a_bad_peak_names_the_file_and_field(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(f'key = "bad"\nbandwidth_gbs = 100\n[peak_tflops]\n{body}\n')
    with pytest.raises(ValueError, match=message) as error:
        get_spec(str(path))
    assert str(path) in str(error.value)


@pytest.mark.parametrize(("text", "message"), [
    ('key = "b"\nbandwidth_gbs = "x"\n[peak_tflops]\nfp16 = 5\n', r"bandwidth_gbs = 'x' is not a positive number"),
    ('key = "b"\nbandwidth_gbs = 0\n[peak_tflops]\nfp16 = 5\n', r"bandwidth_gbs = 0 is not a positive number"),
    ('key = "b"\nbandwidth_gbs = 9\npeak_tflops = 5\n', r"peak_tflops must be a table"),
    ('key = "b"\nbandwidth_gbs = 9\n[peak_tflops]\n', r"peak_tflops must be a table"),
    ('key = 3\nbandwidth_gbs = 9\n[peak_tflops]\nfp16 = 5\n', r"key = 3 must be a non-empty quoted string"),
    ('key = "b"\naliases = "c"\nbandwidth_gbs = 9\n[peak_tflops]\nfp16 = 5\n', r"aliases must be a list"),
    ('bandwidth_gbs = 9\n', r"lacks key, peak_tflops; add key and peak_tflops"),
    ('key = "b"\nbandwith = 9\n[peak_tflops]\nfp16 = 5\n', r"unknown field 'bandwith'; did you mean bandwidth_gbs\?"),
    ('key = "b"\nbandwidth_gbs = 9\nbase_clock_mhz = 1500\n[peak_tflops]\nfp16 = 5\n',
     r"gives base_clock_mhz alone; give both base_clock_mhz and boost_clock_mhz"),
    ('key = "b"\nbandwidth_gbs = 9\nbase_clock_mhz = 2000\nboost_clock_mhz = 1500\n[peak_tflops]\nfp16 = 5\n',
     r"base_clock_mhz 2000 is above boost_clock_mhz 1500; the base clock is the lower one"),
    ('key = "b"\nbandwidth_gbs = 9\nbase_clock_mhz = "1.5 GHz"\nboost_clock_mhz = 1800\n[peak_tflops]\nfp16 = 5\n',
     r"base_clock_mhz = '1.5 GHz' is not a positive number"),
])
def test_spec_file_with_bad_or_missing_fields(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        get_spec(str(path))
    assert str(path) in str(error.value)


def test_every_bundled_spec_still_validates():
    assert all(min(s.peak_tflops.values()) > 0 for s in list_specs())


def test_clocks_give_the_sustained_share_of_the_peaks_and_the_sm_cycles():
    spec = get_spec("rtx4090", "fp16")
    # base 2,235 MHz of the 2,520 MHz the peaks are quoted at; 128 SMs x 2,235e6 cycles/s
    assert spec.sustained_clock_ratio == pytest.approx(2235 / 2520)
    assert spec.sm_cycles_per_s == pytest.approx(128 * 2235e6)
    assert spec.summary("fp16")["clocks_mhz"] == {"base": 2235, "boost": 2520}
    # a spec without clocks keeps its peaks and has no issue limit
    tpu = get_spec("tpuv1", "int8")
    assert tpu.sustained_clock_ratio == 1.0 and tpu.sm_cycles_per_s is None


def test_every_bundled_gpu_with_sms_gives_its_clocks():
    gpus = [s for s in list_specs() if s.sms]
    assert gpus and all(s.base_clock_mhz and s.base_clock_mhz <= s.boost_clock_mhz for s in gpus)
