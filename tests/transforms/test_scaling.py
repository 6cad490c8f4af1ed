"""Compound scaling (seed 000 5.3 baseline): depth, width and resolution."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from intensity.models import create_model
from intensity.models.resnet_cifar import ResNetCifar
from intensity.transforms.scaling import compound_scale


def _convs(model: nn.Module) -> list[nn.Conv2d]:
    return [m for m in model.modules() if isinstance(m, nn.Conv2d)]


def test_phi_minus_one_on_noscope_coral():
    # width 16 / 1.2 = 13.3 -> 13; resolution 50 / 1.15 = 43.5 -> 43; outputs stay 2 classes
    scaled = compound_scale(create_model("noscope-coral"), (3, 50, 50))
    assert scaled.input_shape == (3, 43, 43)
    assert [(c.in_channels, c.out_channels) for c in _convs(scaled.model)] == [(3, 13), (13, 13)]
    assert scaled.model(torch.randn(2, *scaled.input_shape)).shape == (2, 2)


def test_depth_scales_runs_of_width_preserving_convs():
    # V1's B block is a run of 3 conv+ReLU pairs: alpha^-5 = 0.62 -> ceil(3 * 0.62) = 2 pairs
    model = create_model("game-lol-gold1")
    assert len(_convs(compound_scale(model, (3, 22, 52), phi=-1).model)) == 5  # ceil(3 * 0.91) = 3
    scaled = compound_scale(model, (3, 22, 52), phi=-5)
    assert len(_convs(scaled.model)) == 4
    assert scaled.model(torch.randn(1, *scaled.input_shape)).shape == (1, 11)


def test_other_models_keep_their_depth_and_say_so():
    scaled = compound_scale(ResNetCifar(), (3, 32, 32))
    assert any("depth unchanged" in note for note in scaled.notes)
    assert scaled.model(torch.randn(1, *scaled.input_shape)).shape == (1, 10)


def test_bad_coefficients():
    with pytest.raises(ValueError, match="`beta` must be a positive number"):
        compound_scale(create_model("noscope-coral"), (3, 50, 50), beta=0)
    with pytest.raises(ValueError, match="`gamma` must be a finite number"):
        compound_scale(create_model("noscope-coral"), (3, 50, 50), gamma=float("nan"))


@pytest.mark.parametrize(("phi", "message"), [
    (9, r"`phi` must be a finite number in \[-8, 8\], got 9"), (-1e9, r"in \[-8, 8\]"),
    (float("nan"), "finite number"), ("1", "must be a number, not str"), (True, "must be a number, not bool")])
def test_absurd_phi_is_refused(phi, message):
    with pytest.raises(ValueError, match=message):
        compound_scale(create_model("noscope-coral"), (3, 50, 50), phi=phi)


def test_widths_or_resolution_below_one_are_refused():
    # a 2-channel layer at phi = -4: 2 * 1.2^-4 = 0.96 < 1 channel
    model = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.Conv2d(2, 4, 1))
    with pytest.raises(ValueError, match="narrowest layer \\(2 channels\\) below one channel"):
        compound_scale(model, (3, 8, 8), phi=-4)
    with pytest.raises(ValueError, match="input below one pixel"):  # 1 * 1.15^-1 < 1
        compound_scale(nn.Sequential(nn.Conv2d(3, 4, 1)), (3, 1, 1), phi=-1)


def test_large_models_are_refused_on_a_real_device_but_scale_on_meta():
    # ResNet-18 CIFAR: 11.2M fp32 weights = 45 MB; phi = 8 widens 1.2^8 = 4.3x, so ~18.5x the
    # weights = 0.78 GiB: over a 0.1 GiB budget
    with pytest.raises(ValueError, match="about 0.8 GiB of weights; pass meta=True"):
        compound_scale(ResNetCifar(), (3, 32, 32), phi=8, max_bytes=2**30 // 10)
    scaled = compound_scale(ResNetCifar(), (3, 32, 32), phi=8, meta=True)
    assert all(p.is_meta for p in scaled.model.parameters())
    assert scaled.model.conv1.out_channels == round(64 * 1.2**8) and scaled.input_shape == (3, 98, 98)
    assert "meta device" in scaled.notes[0]


def test_a_model_already_on_meta_stays_there():
    with torch.device("meta"):
        model = create_model("game-lol-gold1")
    scaled = compound_scale(model, (3, 22, 52), phi=1)
    assert all(p.is_meta for p in scaled.model.parameters())
    assert scaled.model(torch.zeros(2, *scaled.input_shape, device="meta")).shape == (2, 11)
