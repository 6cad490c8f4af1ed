"""The NATS-Bench size search space network (seed 003 4.1), following the NATS-Bench code.

`nats-size:C1:C2:C3:C4:C5` (each C in 8, 16, ..., 64; CIFAR 32x32 input):
stem 3x3 conv 3 -> C1 + BN; cell (C1 -> C1); residual block C1 -> C2, stride 2 (ReLU-conv3x3/s2-BN,
ReLU-conv3x3-BN, shortcut 2x2 average pool + 1x1 conv); cell (C2 -> C3); residual block C3 -> C4,
stride 2; cell (C4 -> C5); BN, ReLU, global average pool, linear.
Each cell is the fixed topology
|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|
where an op is ReLU-Conv-BN, edges leaving node 0 change the width (C_in -> C_out) and a skip
between different widths is a 1x1 ReLU-conv-BN. `nats-size:8:8:8:8:8` has 11,714 parameters.
"""
from __future__ import annotations

import torch
from torch import nn

from intensity.models._registry import register_model

CHOICES = tuple(range(8, 65, 8))
# node -> [(op, input node)] of the fixed size-space cell
CELL = [[("conv", 0)], [("conv", 0), ("conv", 1)], [("skip", 0), ("conv", 1), ("conv", 2)]]


def relu_conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False),
                         nn.BatchNorm2d(c_out))


class Cell(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList()
        self.sources: list[list[int]] = []
        for node in CELL:
            self.sources.append([source for _, source in node])
            for op, source in node:
                width_in = c_in if source == 0 else c_out
                self.edges.append(self._edge(op, width_in, c_out))

    @staticmethod
    def _edge(op: str, c_in: int, c_out: int) -> nn.Module:
        if op == "conv":
            return relu_conv_bn(c_in, c_out, 3)
        return nn.Identity() if c_in == c_out else relu_conv_bn(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes, edge = [x], 0
        for sources in self.sources:
            total = None
            for source in sources:
                value = self.edges[edge](nodes[source])
                total = value if total is None else total + value
                edge += 1
            nodes.append(total)
        return nodes[-1]


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = relu_conv_bn(c_in, c_out, 3, stride=2)
        self.conv_b = relu_conv_bn(c_out, c_out, 3)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def parse_channels(text: str) -> tuple[int, ...]:
    parts = text.split(":")
    try:
        channels = tuple(int(p) for p in parts)
    except ValueError:
        channels = ()
    if len(channels) != 5 or any(c not in CHOICES for c in channels):
        raise ValueError(f"invalid NATS size channels {text!r}: need five widths from "
                         f"{', '.join(map(str, CHOICES))}, e.g. nats-size:8:16:32:32:64")
    return channels


class NatsSizeNet(nn.Module):
    def __init__(self, channels: tuple[int, ...], num_classes: int = 10) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = channels
        self.stem = nn.Sequential(nn.Conv2d(3, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1))
        self.cells = nn.Sequential(Cell(c1, c1), ResidualBlock(c1, c2), Cell(c2, c3),
                                   ResidualBlock(c3, c4), Cell(c4, c5))
        self.lastact = nn.Sequential(nn.BatchNorm2d(c5), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c5, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.pool(x).flatten(1))


@register_model("nats-size", family="NATS-Bench size (seed 003)", input_shape=(3, 32, 32),
                num_classes=10, description="nats-size:C1:C2:C3:C4:C5, each C in 8..64 step 8")
def nats_size(channels: str = "64:64:64:64:64", num_classes: int = 10) -> NatsSizeNet:
    return NatsSizeNet(parse_channels(channels), num_classes)
