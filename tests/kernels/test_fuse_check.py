"""`check_fuse` must be able to fail: each fused block is judged on its own random input, against the
part of its output that depends on the input (issue 19: a fresh ConvFirstNet's output was almost
only the classifier's bias, so a wrong kernel could not show)."""
from __future__ import annotations

import sys

from intensity.kernels.fuse import check_fuse
from intensity.models import create_model

fuse_module = sys.modules["intensity.kernels.fuse"]  # the package re-exports a function of that name


def test_correct_kernels_agree_to_fp32_rounding():
    result = check_fuse(create_model("convfirstnet-pico"), (3, 64, 64))
    assert result.relative_error < 1e-4 and result.input_dependent > 1e-3


def test_a_wrong_fused_kernel_is_caught(monkeypatch):
    real = fuse_module.fuse

    def broken(model):  # noqa: ANN001, ANN202
        fused, report = real(model)
        block = fused.get_submodule(report.replaced[-1][0])
        right = block.forward
        block.forward = lambda x: right(x) * 1.05  # one fused block's output off by 5%
        return fused, report

    monkeypatch.setattr(fuse_module, "fuse", broken)
    result = check_fuse(create_model("convfirstnet-pico"), (3, 64, 64))
    assert result.relative_error > 1e-3
