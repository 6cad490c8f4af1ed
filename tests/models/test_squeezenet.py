"""SqueezeNet (seed 002 Table 5.1) and the Fire metaparameter generator (5.5.1)."""
from __future__ import annotations

import pytest
import torch
import torchvision

from intensity.models import create_model
from intensity.models.squeezenet import FireDims, fire_dims


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_match_table_5_1_and_torchvision():
    assert _params(create_model("squeezenet1_0")) == 1_248_424
    assert _params(create_model("squeezenet1_1")) == 1_235_496
    assert _params(torchvision.models.squeezenet1_1()) == 1_235_496


def test_metaparameters_reproduce_squeezenet_fire_dimensions():
    # Table 5.1 (s1x1, e1x1, e3x3) for fire2..fire9
    table_5_1 = [(16, 64, 64), (16, 64, 64), (32, 128, 128), (32, 128, 128),
                 (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256)]
    dims = fire_dims(base_e=128, incr_e=128, pct3x3=0.5, freq=2, sr=0.125)
    assert dims == [FireDims(*row) for row in table_5_1]


def test_generator_builds_any_setting():
    # base_e 64, incr_e 32, pct3x3 0.25, freq 1, SR 0.5: e_i = 64 + 32 i; fire2: s 32, e1x1 48, e3x3 16
    dims = fire_dims(64, 32, 0.25, 1, 0.5)
    assert dims[0] == FireDims(32, 48, 16) and dims[7].out_channels == 64 + 32 * 7
    model = create_model("squeezenet-fire", base_e=64, incr_e=32, pct3x3=0.25, freq=1, sr=0.5,
                         num_classes=7)
    assert model(torch.randn(2, 3, 224, 224)).shape == (2, 7)


def test_bypass_variants():
    vanilla = _params(create_model("squeezenet1_0"))
    assert _params(create_model("squeezenet-simple-bypass")) == vanilla  # "just a wire"
    # complex: 1x1 convs (with bias) around fire2 (96->128), fire4 (128->256), fire6 (256->384)
    # and fire8 (384->512)
    extra = sum(i * o + o for i, o in ((96, 128), (128, 256), (256, 384), (384, 512)))
    assert _params(create_model("squeezenet-complex-bypass")) == vanilla + extra


def test_bad_metaparameters():
    with pytest.raises(ValueError, match="Fire metaparameters need"):
        fire_dims(pct3x3=1.5)
    with pytest.raises(ValueError, match="unknown bypass 'partial'"):
        create_model("squeezenet1_0", bypass="partial")
