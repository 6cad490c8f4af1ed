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


@pytest.mark.parametrize(("name", "b_convs_at", "fc_in"), [
    # unpadded pools, (H - 3) // stride + 1: 22x52 -> s2 -> 10x25 (B) -> s1 -> 8x23 -> C8 -> s2 -> 3x11
    ("game-lol-gold1", (10, 25), 8 * 3 * 11),
    ("game-apex-count", (9, 12), 8 * 3 * 4),  # 19x25 -> 9x12 -> 7x10 -> 3x4
    ("game-sot-coin", (8, 19), 8 * 2 * 8),  # 17x40 -> 8x19 -> 6x17 -> 2x8
    ("game-sot-time", (10, 14), 8 * 2 * 4),  # 22x30 -> 10x14 -> 8x12 (B) -> 6x10 -> 2x4
])
def test_game_cnns_pool_without_padding(name, b_convs_at, fc_in):
    model = create_model(name)
    pools = [m for m in model if isinstance(m, torch.nn.MaxPool2d)]
    assert all(p.padding == 0 and p.kernel_size == 3 for p in pools)
    assert [p.stride for p in pools][0] == 2 and [p.stride for p in pools][-1] == 2
    shape = next(iter(model_entries(name))).input_shape
    b_conv = model[3]  # conv, relu, pool, then the first conv of B
    seen = {}
    b_conv.register_forward_hook(lambda m, i, o: seen.update(hw=tuple(o.shape[2:])))
    model(torch.zeros(1, *shape))
    assert seen["hw"] == b_convs_at
    assert [m.in_features for m in model if isinstance(m, torch.nn.Linear)] == [fc_in]


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
