from __future__ import annotations

from intensity.config import Defaults
from intensity.ops.calibrate import _settings


def test_a_cpu_calibration_defaults_to_fp32_and_a_gpu_one_to_the_configured_dtype():
    configured = Defaults("bf16", "h100", "INTENSITY_DTYPE", "built-in")
    assert (_settings(None, "cpu", configured).dtype, _settings(None, "cuda", configured).dtype) == ("fp32", "bf16")
    assert _settings(None, "cuda", configured).dtype_from == "INTENSITY_DTYPE"
    assert _settings("fp16", "cpu", configured).line() == "dtype fp16, device cpu"
