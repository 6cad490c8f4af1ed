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
    with pytest.raises(ValueError, match="must be positive"):
        compound_scale(create_model("noscope-coral"), (3, 50, 50), beta=0)
