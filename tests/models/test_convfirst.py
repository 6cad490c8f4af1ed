"""ConvFirst / MBConv blocks and ConvFirstNet (seed 001 Table 3, Table 4)."""
from __future__ import annotations

import pytest
import torch

from intensity import analyze
from intensity.models.layers import BlurPool, ConvFirst, MBConv


@pytest.mark.parametrize(("size", "params_m", "macs_b"), [
    ("pico", 5.91, 0.86), ("nano", 10.17, 1.812), ("tiny", 17.24, 3.227), ("small", 28.55, 5.493),
])
def test_params_and_macs_within_3_percent_of_table_4(size, params_m, macs_b):
    totals = analyze(f"convfirstnet-{size}", batch=1).totals  # 256x256 input
    assert totals.params / 1e6 == pytest.approx(params_m, rel=0.03)
    assert totals.macs / 1e9 == pytest.approx(macs_b, rel=0.03)


def test_blocks_use_group_width_8_and_blurpool_downsampling():
    block = ConvFirst(32, 64, expansion=6, stride=2)
    assert block.conv.groups == 32 // 8
    assert block(torch.randn(2, 32, 16, 16)).shape == (2, 64, 8, 8)
    mb = MBConv(48, 128, stride=2)
    assert mb.conv.groups == 4 * 48 // 8 and mb.se.reduce.out_channels == 12  # SE 0.25 x 48
    assert mb(torch.randn(2, 48, 16, 16)).shape == (2, 128, 8, 8)
    # the Triangle-3 filter averages: a constant image stays constant
    assert torch.allclose(BlurPool(3)(torch.ones(1, 3, 8, 8)), torch.ones(1, 3, 4, 4))


def test_width_not_divisible_by_group_width():
    with pytest.raises(ValueError, match="not divisible by the group width 8"):
        ConvFirst(12, 12, expansion=3)
