"""ResNet-18 for CIFAR (seed 000 5.4)."""
from __future__ import annotations

import torch

from intensity.models import create_model


def test_resnet18_cifar():
    model = create_model("resnet18-cifar10")
    assert sum(p.numel() for p in model.parameters()) == 11_173_962
    assert create_model("resnet18-cifar100")(torch.randn(2, 3, 32, 32)).shape == (2, 100)
