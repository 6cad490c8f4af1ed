"""ResNet-18 for CIFAR (32x32), as seed 000 5.4 folds it: a 3x3 stride-1 stem with 64 channels and
no max pool, four stages of two BasicBlocks (64, 128, 256, 512; stride 2 from stage 2, 1x1-conv
+ BN shortcuts where the shape changes), 4x4 average pool and a linear classifier (the common
CIFAR layout of the FoldedCNNs reference code)."""
from __future__ import annotations

import torch
from torch import nn

from intensity.models._registry import register_model


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNetCifar(nn.Module):
    def __init__(self, blocks: tuple[int, ...] = (2, 2, 2, 2), num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        stages, channels = [], 64
        for stage, count in enumerate(blocks):
            width = 64 * 2**stage
            for block in range(count):
                stride = 2 if stage > 0 and block == 0 else 1
                stages.append(BasicBlock(channels, width, stride))
                channels = width
        self.layers = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(torch.relu(self.bn1(self.conv1(x))))
        return self.linear(self.pool(x).flatten(1))


@register_model("resnet18-cifar10", family="ResNet CIFAR (seed 000 5.4)", input_shape=(3, 32, 32),
                num_classes=10, description="ResNet-18 for CIFAR-10")
def resnet18_cifar10() -> ResNetCifar:
    return ResNetCifar(num_classes=10)


@register_model("resnet18-cifar100", family="ResNet CIFAR (seed 000 5.4)", input_shape=(3, 32, 32),
                num_classes=100, description="ResNet-18 for CIFAR-100")
def resnet18_cifar100() -> ResNetCifar:
    return ResNetCifar(num_classes=100)
