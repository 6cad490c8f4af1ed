"""fuse(model): supported blocks replaced, unsupported ones kept and listed, outputs unchanged."""

import pytest
import torch
from torch import nn

from intensity.kernels import FusedConvFirst, FusedMBConv, fuse
from intensity.models import create_model
from intensity.models.layers import ConvFirst, MBConv


def test_fuse_convfirstnet_pico_equals_original(bn_randomizer):
    model = bn_randomizer(create_model("convfirstnet-pico"))
    fused, report = fuse(model)
    # Table 3 pico: 1 + 2 + 3 ConvFirst and 11 + 11 MBConv blocks
    kinds = [kind for _, kind in report.replaced]
    assert (kinds.count("ConvFirst"), kinds.count("MBConv")) == (6, 22)
    assert report.unchanged == []
    assert isinstance(fused[3][0], FusedConvFirst) and isinstance(fused[6][0], FusedMBConv)
    assert isinstance(model[3][0], ConvFirst)  # the original is untouched
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), model(x), rtol=1e-4, atol=1e-5)


def test_unsupported_blocks_are_kept_and_listed(bn_randomizer):
    odd = ConvFirst(16, 16, 2)
    odd.conv = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=2, bias=False)  # dilated: no kernel
    model = bn_randomizer(nn.Sequential(ConvFirst(16, 16, 2), odd, MBConv(16, 16, 2)))
    fused, report = fuse(model)
    assert report.replaced == [("0", "ConvFirst"), ("2", "MBConv")]
    assert [(path, kind) for path, kind, _ in report.unchanged] == [("1", "ConvFirst")]
    assert "dilation (2, 2)" in report.unchanged[0][2]
    assert type(fused[1]) is ConvFirst
    x = torch.randn(3, 16, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), model(x), rtol=1e-4, atol=1e-5)


def test_fuse_a_bare_block_and_a_model_without_blocks():
    fused, report = fuse(MBConv(8, 8, 2))
    assert isinstance(fused, FusedMBConv) and report.replaced == [("(model)", "MBConv")]
    plain = nn.Sequential(nn.Conv2d(3, 8, 3))
    fused, report = fuse(plain)
    assert report.replaced == report.unchanged == [] and isinstance(fused[0], nn.Conv2d)


def test_fused_block_stays_equal_after_dtype_move(bn_randomizer):
    # .double() must move the folded weights that live outside parameters/buffers
    block = bn_randomizer(ConvFirst(8, 16, 2, 2))
    fused, _ = fuse(block)
    x = torch.randn(2, 8, 6, 6, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(fused.double()(x), block.double()(x))


def test_check_fuse_model_error_is_a_model_run_error():
    from intensity.errors import ModelRunError
    from intensity.kernels.fuse import check_fuse

    # 3x4x4: the stem and a stride-2 stage leave 1x1 maps, too small for BlurPool's reflect padding
    with pytest.raises(ModelRunError, match=r"raised on an input of shape \(2, 3, 4, 4\).*`input_shape`"):
        check_fuse(create_model("convfirstnet-pico"), (3, 4, 4))
