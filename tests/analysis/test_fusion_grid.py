"""Block fusion in the cost model: one kernel per block, and the seed's Fig. 8/12 waterlines."""
import pytest
from torch import nn

from intensity.analysis.fusion_grid import SEED_LATENCY_US, fusion_grid, grid_point
from intensity.api import analyze
from intensity.models.layers import ConvFirst, MBConv


def test_block_policy_one_kernel_per_convfirst_block_with_compulsory_bytes():
    # no `blocks`: the default block set picks up ConvFirst and MBConv
    model = nn.Sequential(ConvFirst(16, 16, 3), ConvFirst(16, 32, 2, stride=2), MBConv(32, 32, 2))
    report = analyze(model, batch=2, input_shape=(16, 8, 8), dtype="fp16", fusion="block")
    assert [k.op for k in report.kernels] == ["ConvFirst", "ConvFirst", "MBConv"]
    first = report.kernels[0]
    # in = out = 2 x 16 x 8 x 8 x 2 B = 4096 B; weights: grouped conv 16*8*9 = 1152, BN 4*16,
    # 1x1 16*48 = 768, BN 4*48, 1x1 768, BN 4*16 -> 3008 elements x 2 B = 6016 B
    assert (first.input_bytes, first.output_bytes, first.weight_bytes) == (4096, 4096, 6016)
    assert first.bytes == 4096 + 4096 + 6016
    # the stride-2 block reads 16 x 8 x 8 and writes 32 x 4 x 4 per image (BlurPool filters are weights)
    second = report.kernels[1]
    assert (second.input_bytes, second.output_bytes) == (4096, 2 * 32 * 4 * 4 * 2)


def test_block_policy_without_default_blocks_still_asks_for_blocks():
    with pytest.raises(ValueError, match="needs `blocks` here"):
        analyze(nn.Sequential(nn.Conv2d(3, 8, 3)), input_shape=(3, 8, 8), fusion="block")


def test_waterline_matches_hand_calculation_at_16c3a128hw():
    point = grid_point("convfirst", 16, 3, 128)  # batch 128, fp16, A5000 base: 76.7 TFLOP/s, 480 GB/s
    pixels = 128 * 128 * 128
    # layer-wise: grouped conv reads 16 + writes 16 channels, 1x1 16 -> 48, 1x1 48 -> 16 plus the
    # residual read (16): 176 channels x 2 B per pixel, plus weights 2432 + 1920 + 1664 B
    layer_bytes = 176 * 2 * pixels + 2432 + 1920 + 1664
    assert sum(k.bytes for k in point.layer.report.kernels) == layer_bytes
    assert point.layer.latency == pytest.approx(layer_bytes / 480e9)  # all memory bound: 1537.9 us
    # fused: 16 in + 16 out channels, 6016 B of weights; flops 2 x (1152 + 1536) per pixel
    fused_bytes, flops = 32 * 2 * pixels + 6016, 2 * 2688 * pixels
    kernel = point.fused.report.kernels[0]
    assert (kernel.bytes, kernel.flops) == (fused_bytes, flops)
    assert point.fused.latency == pytest.approx(max(fused_bytes / 480e9, flops / 76.7e12))  # 279.6 us
    assert point.fused.line.kernels[0].bound == "memory"
    assert round(point.layer.latency * 1e6) == 1538 and round(point.fused.latency * 1e6) == 280  # Fig. 8


def test_convfirst_grid_reproduces_fig8_latencies():
    points = fusion_grid("convfirst")
    assert len(points) == 9
    for point in points:
        row = point.to_dict()
        assert (round(row["layer_latency_us"]), round(row["fused_latency_us"])) == pytest.approx(
            SEED_LATENCY_US["convfirst"][(point.channels, point.expansion, point.hw)], abs=1)
        assert row["layer_memory_bound"] == row["layer_kernels"] == 3  # Fig. 8: all layer-wise kernels underwater


def test_mbconv_grid_point_and_bad_block():
    point = grid_point("mbconv", 128, 4, 16)
    assert (round(point.layer.latency * 1e6), round(point.fused.latency * 1e6)) == (544, 144)  # Fig. 12
    assert point.fused.line.kernels[0].bound == "compute"
    with pytest.raises(ValueError, match="unknown `block` 'resnet'; choose one of convfirst, mbconv"):
        fusion_grid("resnet")
