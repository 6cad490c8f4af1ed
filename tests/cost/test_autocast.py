"""Counting a pass as torch.autocast runs it (`amp`): fp32 weights cast per use, fp32 norms."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from intensity import analyze
from intensity.cost.analyze import count_costs


class ConvNorm(nn.Module):
    """conv (3->8, 3x3, no bias) -> GroupNorm(2, 8) -> 1x1 conv (8->8, no bias)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.norm = nn.GroupNorm(2, 8)
        self.head = nn.Conv2d(8, 8, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.conv(x)))


def _kernels(report):  # noqa: ANN001, ANN202
    return [(k.name, k.op, k.input_bytes, k.weight_bytes, k.output_bytes) for k in report.kernels]


def test_amp_counts_casts_fp16_convs_and_fp32_group_norm():
    report = count_costs(ConvNorm(), (3, 4, 4), batch=1, dtype="fp16", fusion="none", amp=True)
    # activations: input 3x4x4 = 48, conv output 8x4x4 = 128 elements; weights 8x3x3x3 = 216, 8x8 = 64
    assert _kernels(report) == [
        ("conv", "copy", 0, 216 * 4, 216 * 2),         # autocast's fp16 copy of the fp32 weight
        ("conv", "copy", 48 * 4, 0, 48 * 2),           # the fp32 input cast to fp16
        ("conv", "conv", 48 * 2, 216 * 2, 128 * 2),    # the conv runs in fp16
        ("norm", "copy", 128 * 2, 0, 128 * 4),         # group_norm runs in fp32: its input is cast up
        ("norm", "norm", 128 * 4, 16 * 4, 128 * 4),    # fp32 in and out; weight and bias 8 + 8 fp32
        ("head", "copy", 0, 64 * 4, 64 * 2),
        ("head", "copy", 128 * 4, 0, 128 * 2),         # the fp32 norm output cast back for the conv
        ("head", "conv", 128 * 2, 64 * 2, 128 * 2),
    ]
    assert report.amp and report.capture == "autocast" and not report.uncounted
    assert report.to_dict()["amp"] is True


def test_without_amp_every_float_is_counted_at_the_dtype():
    report = count_costs(ConvNorm(), (3, 4, 4), batch=1, dtype="fp16", fusion="none")
    assert _kernels(report) == [
        ("conv", "conv", 48 * 2, 216 * 2, 128 * 2),
        ("norm", "norm", 128 * 2, 16 * 2, 128 * 2),
        ("head", "conv", 128 * 2, 64 * 2, 128 * 2),
    ]
    assert not report.amp


def test_amp_keeps_batch_norm_in_fp16_and_a_weight_cast_is_a_weight():
    model = nn.Sequential(nn.Conv2d(3, 4, 1, bias=False), nn.BatchNorm2d(4))
    report = count_costs(model, (3, 2, 2), batch=2, dtype="fp16", fusion="none", amp=True)
    norm = report.kernels[-1]
    # cudnn batch norm: fp16 activations (2x4x2x2 = 32 elements), fp32 weight, bias, mean, var
    assert (norm.op, norm.input_bytes, norm.weight_bytes, norm.output_bytes) == ("norm", 64, 64, 64)
    conv = report.kernels[2]
    assert conv.weight_elements == 12  # it reads the fp16 copy of the weight as a weight
    assert report.totals.flops == count_costs(model, (3, 2, 2), batch=2, dtype="fp16").totals.flops


def test_amp_with_trivial_fusion_still_fuses_batch_norm_into_the_conv():
    model = nn.Sequential(nn.Conv2d(3, 4, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
    report = count_costs(model, (3, 2, 2), batch=2, dtype="fp16", fusion="trivial", amp=True)
    assert [k.op for k in report.kernels] == ["copy", "copy", "conv"]
    assert report.kernels[-1].fused == ["cudnn_batch_norm", "relu"]


@pytest.mark.parametrize("dtype", ["fp32", "tf32", "int8"])
def test_amp_refuses_a_dtype_autocast_does_not_run(dtype):
    with pytest.raises(ValueError, match="fp16 or bf16"):
        count_costs(ConvNorm(), (3, 4, 4), dtype=dtype, amp=True)


def test_amp_in_bf16_counts_bf16_copies():
    report = count_costs(ConvNorm(), (3, 4, 4), dtype="bf16", fusion="none", amp=True)
    assert report.kernels[0].output_bytes == 216 * 2 and report.dtype == "bf16"


def test_analyze_passes_amp_and_refuses_a_non_bool():
    assert analyze(ConvNorm(), input_shape="3x4x4", dtype="fp16", amp=True).amp
    with pytest.raises(TypeError, match="`amp` must be True or False"):
        analyze(ConvNorm(), input_shape="3x4x4", dtype="fp16", amp="yes")


def test_amp_leaves_autocast_off_afterwards():
    count_costs(ConvNorm(), (3, 4, 4), dtype="fp16", amp=True)
    assert not torch.is_autocast_enabled("cuda")


class CpuOnly(nn.Module):
    """Calls into a device library itself (as cuDNN's LSTM does): fails on fake CUDA tensors."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_cuda:
            raise RuntimeError("CUDA error: no driver")
        return self.conv(x)


def test_a_model_that_fails_under_autocast_is_counted_without_it_and_says_so():
    report = count_costs(CpuOnly(), (3, 4, 4), dtype="fp16", fusion="none", amp=True)
    assert not report.amp and report.capture == "meta"
    assert any("not counted as autocast runs it" in note for note in report.notes)
    assert [k.op for k in report.kernels] == ["conv"]  # 2-byte floats throughout
    assert report.kernels[0].weight_bytes == 24 * 2
