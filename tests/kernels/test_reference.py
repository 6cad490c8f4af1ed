"""The chunked PyTorch block-fusion kernels equal the zoo's layer-wise blocks (fp32, BN in eval)."""
import pytest
import torch
from torch import nn

from intensity.kernels import FusedConvFirst, FusedMBConv, ffn_chunked
from intensity.kernels.reference import FFNWeights
from intensity.models.layers import ConvFirst, MBConv

TOL = dict(rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("channels,expansion,pixels,chunk,tile", [
    (8, 1, 50, 8, 16), (16, 3, 64, 5, 7), (24, 6, 33, 64, 4096), (32, 4, 100, 16, 32)])
def test_ffn_chunked_equals_layerwise_ffn(channels, expansion, pixels, chunk, tile, bn_randomizer):
    # chunks and tiles that do not divide the hidden width / pixel count exercise the ragged ends
    torch.manual_seed(0)
    hidden = channels * expansion
    layers = bn_randomizer(nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.BatchNorm2d(hidden), nn.ReLU(),
                                         nn.Conv2d(hidden, channels, 1), nn.BatchNorm2d(channels)))
    x = torch.randn(1, channels, 1, pixels)
    weights = FFNWeights.from_layers(layers[0], layers[1], layers[3], layers[4])
    out = ffn_chunked(x[0, :, 0].t(), weights.w1, weights.b1, weights.w2, weights.b2, chunk=chunk, tile=tile)
    with torch.no_grad():
        expected = layers(x)[0, :, 0].t()
    torch.testing.assert_close(out, expected, **TOL)


@pytest.mark.parametrize("c_in,c_out,expansion,stride,hw", [
    (8, 8, 1, 1, 5), (16, 16, 3, 1, 8), (24, 24, 6, 1, (7, 9)), (16, 32, 6, 2, 8), (8, 24, 3, 2, (9, 6))])
def test_fused_convfirst_equals_block(c_in, c_out, expansion, stride, hw, bn_randomizer):
    # stride 1 has the residual add, stride 2 the BlurPool shortcut concatenated (odd sizes too)
    torch.manual_seed(1)
    h, w = hw if isinstance(hw, tuple) else (hw, hw)
    block = bn_randomizer(ConvFirst(c_in, c_out, expansion, stride))
    x = torch.randn(5, c_in, h, w)  # 5 images: micro-batches of 4 leave a ragged one
    with torch.no_grad():
        torch.testing.assert_close(FusedConvFirst(block)(x), block(x), **TOL)


@pytest.mark.parametrize("c_in,c_out,expansion,stride,hw", [
    (8, 8, 4, 1, 6), (16, 16, 2, 1, (5, 7)), (16, 24, 4, 1, 4), (8, 16, 4, 2, 8), (16, 16, 4, 2, 7)])
def test_fused_mbconv_equals_block(c_in, c_out, expansion, stride, hw, bn_randomizer):
    # residual only when stride 1 and c_in == c_out (rows 1-2); SE in every case
    torch.manual_seed(2)
    h, w = hw if isinstance(hw, tuple) else (hw, hw)
    block = bn_randomizer(MBConv(c_in, c_out, expansion, stride))
    x = torch.randn(6, c_in, h, w)
    with torch.no_grad():
        torch.testing.assert_close(FusedMBConv(block)(x), block(x), **TOL)


def test_ffn_workspace_does_not_scale_with_expansion(monkeypatch):
    # Eqn 32: the largest hidden tensor ever made is tile x chunk, for alpha 1 and alpha 16 alike
    import intensity.kernels.reference as reference

    largest = []
    real_addmm = torch.addmm

    def spy(*args, **kwargs):
        result = real_addmm(*args, **kwargs)
        largest.append(result.numel())
        return result

    monkeypatch.setattr(reference.torch, "addmm", spy)
    for expansion in (1, 16):
        hidden = 8 * expansion
        ffn_chunked(torch.randn(1000, 8), torch.randn(hidden, 8), torch.zeros(hidden),
                    torch.randn(8, hidden), torch.zeros(8), chunk=8, tile=100)
    assert max(largest) == 100 * 8  # vs 1000 x 128 = 128000 for the layer-wise hidden tensor
