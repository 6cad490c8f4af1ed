"""Seed 000's specialized CNNs and model resolution."""
from __future__ import annotations

import pytest
import torch

from intensity.models import create_model, model_entries, resolve_model


def test_noscope_coral_layers():
    # C16 -> C16 -> M -> F128 -> F2 on 3x50x50: the pool halves 50x50 to 25x25, so F128 sees 10,000
    model = create_model("noscope-coral")
    convs = [m for m in model if isinstance(m, torch.nn.Conv2d)]
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (3, 16, (3, 3), (1, 1)), (16, 16, (3, 3), (1, 1))]
    assert [(fc.in_features, fc.out_features) for fc in linears] == [(10_000, 128), (128, 2)]


def test_game_v1_feature_sizes():
    # 22x52 -> pool s2 -> 11x26 -> (B) -> pool s1 -> 11x26 -> C8 -> pool s2 -> 6x13: F11 sees 624
    fc = [m for m in create_model("game-lol-gold1") if isinstance(m, torch.nn.Linear)]
    assert [(f.in_features, f.out_features) for f in fc] == [(8 * 6 * 13, 11)]


def test_unknown_names_and_arguments():
    with pytest.raises(KeyError, match="did you mean 'noscope-coral'"):
        create_model("noscope-corall")
    with pytest.raises(ValueError, match="does not take width; it takes: dropout"):
        create_model("noscope-coral", width=2)
    with pytest.raises(KeyError, match="unknown torchvision model 'resnet19'"):
        resolve_model("torchvision:resnet19")
    with pytest.raises(ValueError, match="cannot import 'no_such_pkg.models'"):
        resolve_model("no_such_pkg.models:build")


def test_module_callable_resolution():
    resolved = resolve_model("torch.nn:Identity")
    assert isinstance(resolved.module, torch.nn.Identity)
    with pytest.raises(ValueError, match="returned str, not a torch.nn.Module"):
        resolve_model("os:getcwd")
