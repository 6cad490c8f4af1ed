"""Shape formulas against hand arithmetic and against torch's FlopCounterMode."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from intensity.cost.formulas import attention_flops, conv_detail, conv_flops, formula_for, matmul_flops


def test_conv_flops_seed000_table6():
    # 2 N H W Co Ci Kh Kw = 2 * 1024 * 11 * 26 * 32 * 32 * 3 * 3 = 5,398,069,248 (Table 6: 5398.07M)
    assert conv_flops((1024, 32, 11, 26), (32, 32, 3, 3), (1024, 32, 11, 26)) == 5_398_069_248
    # folded: N/4 = 256 images, 64 channels: same operations
    assert conv_flops((256, 64, 11, 26), (64, 64, 3, 3), (256, 64, 11, 26)) == 5_398_069_248


def test_grouped_and_depthwise_conv_flops():
    # groups=4, 32 -> 32: weight (32, 8, 3, 3); 2 * 1 * 50*50 * 32*8*9 = 11,520,000 (G32, seed 000 Table 7)
    assert conv_flops((1, 32, 50, 50), (32, 8, 3, 3), (1, 32, 50, 50)) == 11_520_000
    # depthwise 3x3 on 16 channels at 8x8: 2 * 64 * 16 * 9 = 18,432
    assert conv_flops((1, 16, 8, 8), (16, 1, 3, 3), (1, 16, 8, 8)) == 18_432


def test_transposed_conv_scatters_each_input_element():
    # input 1x4x5x5, weight (Cin=4, Cout=2, 3, 3): 2 * 25 * 4*2*9 = 3,600
    assert conv_flops((1, 4, 5, 5), (4, 2, 3, 3), (1, 2, 11, 11), transposed=True) == 3_600


def test_matmul_and_attention_flops():
    assert matmul_flops(1, 2, 3, 4) == 48  # 2 * 2*3*4
    # QK^T: 2*2*5*8*7 = 1,120; PV: 2*2*5*7*6 = 840
    assert attention_flops((2, 5, 8), (2, 7, 8), (2, 7, 6)) == 1_960


@pytest.mark.parametrize(("x", "w", "groups", "transposed", "stride", "expected"), [
    ((1, 8, 4, 4), (8, 8, 3, 3), 1, False, (1, 1), "standard 3x3"),
    ((1, 8, 4, 4), (16, 8, 1, 1), 1, False, (1, 1), "pointwise 1x1"),
    ((1, 8, 4, 4), (8, 1, 3, 3), 8, False, (2, 2), "depthwise 3x3 s2"),
    ((1, 8, 4, 4), (8, 2, 3, 3), 4, False, (1, 1), "grouped g=4 3x3"),
    ((1, 8, 4, 4), (8, 4, 2, 2), 1, True, (2, 2), "transposed 2x2 s2"),
])
def test_conv_detail_names_the_degenerate_cases(x, w, groups, transposed, stride, expected):
    assert conv_detail(x, w, groups, transposed, stride, (1, 1)) == expected


@pytest.mark.parametrize("layer", [
    nn.Conv2d(6, 12, 3, stride=2, padding=1, groups=3),
    nn.Conv2d(6, 6, 5, padding=4, dilation=2, groups=6),
    nn.ConvTranspose2d(6, 4, 3, stride=2, groups=2),
    nn.Conv1d(6, 8, 3),
    nn.Conv3d(2, 4, 3),
])
def test_conv_flops_agree_with_flop_counter_mode(layer):
    from intensity import analyze

    shape = {nn.Conv1d: (6, 17), nn.Conv3d: (2, 6, 7, 8)}.get(type(layer), (6, 15, 13))
    with FlopCounterMode(display=False) as counter:
        layer(torch.randn(2, *shape))
    assert analyze(layer, batch=2, input_shape=shape).totals.flops == counter.get_total_flops()


def test_in_place_variants_share_the_formula():
    assert formula_for("relu_") is formula_for("relu")
    assert formula_for("no_such_op") is None
