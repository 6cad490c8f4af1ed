"""Shared building blocks of the zoo (as timm's `layers`): ConvFirst, MBConv, Squeeze & Excitation,
BlurPool (seed 001 5.3-5.4, Fig. 6, 9). Model families and `intensity.kernels` import them from here,
never from a family file.

All grouped convs have group width 8 (the mma.m16n8k8 tile); 1x1 convs are ungrouped; a batch
norm follows every linear layer; ConvFirst uses ReLU, MBConv uses SiLU; MBConv has Squeeze &
Excitation with squeeze ratio 0.25 of the block's input channels (as EfficientNet); downsampling
blocks put a BlurPool (Triangle-3 filter, stride 2) after the grouped conv. The reading of the
seed's garbled block diagrams is in models/convfirst.py.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

GROUP_WIDTH = 8


def conv_bn(c_in: int, c_out: int, kernel: int = 1, groups: int = 1, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out)]


def grouped(channels: int) -> int:
    if channels % GROUP_WIDTH:
        raise ValueError(f"{channels} channels are not divisible by the group width {GROUP_WIDTH}")
    return channels // GROUP_WIDTH


class BlurPool(nn.Module):
    """Anti-aliased stride-2 downsampling with the Triangle-3 filter [1, 2, 1] x [1, 2, 1] / 16."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        row = torch.tensor([1.0, 2.0, 1.0])
        kernel = (row[:, None] * row[None, :]) / 16
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).clone(), persistent=False)
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), self.kernel, stride=2,
                        groups=self.channels)


class ConvFirst(nn.Module):
    def __init__(self, c_in: int, c_out: int, expansion: int, stride: int = 1) -> None:
        super().__init__()
        if stride == 1 and c_in != c_out:
            raise ValueError("a stride-1 ConvFirst block keeps its width")
        hidden, main_out = expansion * c_in, c_out - c_in if stride == 2 else c_out
        self.conv = nn.Conv2d(c_in, c_in, 3, 1, 1, groups=grouped(c_in), bias=False)
        self.blur = BlurPool(c_in) if stride == 2 else nn.Identity()
        self.ffn = nn.Sequential(nn.BatchNorm2d(c_in), *conv_bn(c_in, hidden), nn.ReLU(inplace=True),
                                 *conv_bn(hidden, main_out))
        self.shortcut = BlurPool(c_in) if stride == 2 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.ffn(self.blur(self.conv(x)))
        return torch.cat([self.shortcut(x), y], 1) if self.shortcut is not None else x + y


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.expand(F.silu(self.reduce(x.mean((2, 3), keepdim=True))))
        return x * torch.sigmoid(gate)


class MBConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, expansion: int = 4, stride: int = 1,
                 se_ratio: float = 0.25) -> None:
        super().__init__()
        hidden = expansion * c_in
        self.expand = nn.Sequential(*conv_bn(c_in, hidden), nn.SiLU(inplace=True))
        self.conv = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=grouped(hidden), bias=False)
        self.blur = BlurPool(hidden) if stride == 2 else nn.Identity()
        self.bn = nn.Sequential(nn.BatchNorm2d(hidden), nn.SiLU(inplace=True))
        self.se = SqueezeExcite(hidden, max(1, int(c_in * se_ratio)))
        self.project = nn.Sequential(*conv_bn(hidden, c_out))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.se(self.bn(self.blur(self.conv(self.expand(x))))))
        return x + y if self.residual else y
