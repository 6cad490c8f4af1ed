"""The NATS-Bench size search space network (seed 003 4.1)."""
from __future__ import annotations

import pytest
import torch

from intensity import analyze
from intensity.models import create_model


def test_smallest_network_has_11714_parameters():
    # stem 3*8*9 + BN 16 = 232; cell: five 3x3 ReLU-conv-BN of 8*8*9 + 16 = 2,960; residual block:
    # two of 592 + 1x1 shortcut 64 = 1,248; last BN 16; classifier 8*10 + 10 = 90
    # 232 + 3 * 2,960 + 2 * 1,248 + 16 + 90 = 11,714
    model = create_model("nats-size:8:8:8:8:8")
    assert sum(p.numel() for p in model.parameters()) == 11_714


def test_widths_change_along_the_network():
    model = create_model("nats-size:8:16:24:32:64")
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert model.classifier.in_features == 64
    # cell C2 -> C3 (16 -> 24): its skip edge from node 0 becomes a 1x1 ReLU-conv-BN
    skip = model.cells[2].edges[3]
    assert isinstance(skip[1], torch.nn.Conv2d) and skip[1].kernel_size == (1, 1)


@pytest.mark.parametrize("name", ["nats-size:8:8:8:8", "nats-size:8:8:8:8:9", "nats-size:a:8:8:8:8",
                                  "nats-size:8:8:8:8:72"])
def test_invalid_channel_strings(name):
    with pytest.raises(ValueError, match="invalid NATS size channels"):
        create_model(name)
    with pytest.raises(ValueError, match="invalid NATS size channels"):
        analyze(name)
