"""Every registered zoo model builds, runs forward and trains (gradients reach every parameter).

Registry-driven, as timm's tests are. The ConvFirstNets at 256x256 take 5-10 s each on two cores,
so their full forward+backward is `slow`; the fast run checks the smallest on a 64x64 input.
"""
from __future__ import annotations

import pytest
import torch

from intensity.models import create_model, model_entries

HEAVY = {"convfirstnet-pico", "convfirstnet-nano", "convfirstnet-tiny", "convfirstnet-small"}
# 224x224-class inputs: 1.5-3.5 s of CPU each for forward + backward; the quick run keeps the small zoo
# models, and tests/models/test_squeezenet.py and test_nin.py check these models' shapes and counts.
SLOW = {"squeezenet1_0", "squeezenet1_1", "squeezenet-simple-bypass", "squeezenet-complex-bypass",
        "squeezenet-fire", "nin"}
ENTRIES = model_entries()


def _forward_backward(name: str, shape: tuple[int, ...], classes: int) -> None:
    model = create_model(name)
    logits = model(torch.randn(2, *shape))
    assert logits.shape == (2, classes)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("entry", [pytest.param(e, marks=pytest.mark.slow) if e.name in SLOW else e
                                   for e in ENTRIES if e.name not in HEAVY], ids=lambda e: e.name)
def test_every_zoo_model_runs_forward_and_backward(entry):
    _forward_backward(entry.name, entry.input_shape, entry.num_classes)


@pytest.mark.slow
@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.name in HEAVY], ids=lambda e: e.name)
def test_heavy_zoo_models_at_their_own_resolution(entry):
    _forward_backward(entry.name, entry.input_shape, entry.num_classes)


def test_smallest_convfirstnet_on_a_small_input():
    # global pooling makes the head resolution-free: 64x64 checks the wiring in a fraction of the time
    entry = next(e for e in ENTRIES if e.name == "convfirstnet-pico")
    _forward_backward(entry.name, (entry.input_shape[0], 64, 64), entry.num_classes)


def test_the_heavy_set_names_real_models():
    assert HEAVY | SLOW <= {e.name for e in ENTRIES}
