"""ConvFirst and MBConv blocks and ConvFirstNet (seed 001 5.3-5.4, Fig. 6, 9; 6.1, Table 3).

All grouped convs have group width 8 (the mma.m16n8k8 tile); 1x1 convs are ungrouped; a batch
norm follows every linear layer; ConvFirst and the stem use ReLU, MBConv uses SiLU; MBConv has
Squeeze & Excitation with squeeze ratio 0.25 of the block's input channels (as EfficientNet);
downsampling blocks put a BlurPool (Triangle-3 filter, stride 2) after the grouped conv.

The seed's block diagrams survive only as garbled text, so these details are our reading:
- ConvFirst: grouped 3x3 -> BN -> 1x1 expand (ratio x input channels) -> BN -> ReLU -> 1x1 project
  -> BN, plus the identity shortcut (ConvNeXt's order, which the seed calls "basically the same").
- ConvFirst stride 2 (Fig. 6c lists BlurPool and `cat`): the output concatenates BlurPool(x) with
  the main path, which produces the remaining C_out - C_in channels; no projection shortcut.
- MBConv stride 2 has no shortcut; the head is 1x1 conv to 1280 -> BN -> SiLU -> pool -> FC.
With these, params and MACs at 256x256 are within 3% of Table 4 (see tests/models/test_convfirst.py).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from intensity.models._registry import register_model

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


# (block, expansion, stride, channels, blocks) for stages 1-5 of Table 3; the stem is stage 0
_CONFIGS = {
    "pico": (16, [("cf", 3, 1, 16, 1), ("cf", 6, 2, 32, 2), ("cf", 6, 2, 48, 3), ("mb", 4, 2, 128, 11), ("mb", 4, 2, 128, 11)]),
    "nano": (24, [("cf", 3, 1, 24, 1), ("cf", 6, 2, 48, 3), ("cf", 6, 2, 64, 4), ("mb", 4, 2, 160, 14), ("mb", 4, 2, 160, 14)]),
    "tiny": (24, [("cf", 3, 1, 24, 2), ("cf", 6, 2, 48, 5), ("cf", 6, 2, 72, 6), ("mb", 4, 2, 192, 18), ("mb", 4, 2, 192, 18)]),
    "small": (32, [("cf", 3, 1, 32, 2), ("cf", 6, 2, 64, 5), ("cf", 6, 2, 96, 6), ("mb", 4, 2, 256, 18), ("mb", 4, 2, 256, 18)]),
}


def build_convfirstnet(size: str, num_classes: int = 1000, head: int = 1280) -> nn.Sequential:
    stem, stages = _CONFIGS[size]
    layers: list[nn.Module] = [*conv_bn(3, stem, 3, stride=2), nn.ReLU(inplace=True)]
    channels = stem
    for kind, expansion, stride, width, count in stages:
        blocks = []
        for index in range(count):
            step = stride if index == 0 else 1
            block = ConvFirst if kind == "cf" else MBConv
            blocks.append(block(channels, width, expansion, step))
            channels = width
        layers.append(nn.Sequential(*blocks))
    layers += [*conv_bn(channels, head), nn.SiLU(inplace=True), nn.AdaptiveAvgPool2d(1),
               nn.Flatten(), nn.Linear(head, num_classes)]
    return nn.Sequential(*layers)


def _register(size: str) -> None:
    @register_model(f"convfirstnet-{size}", family="ConvFirstNet (seed 001)", input_shape=(3, 256, 256),
                    num_classes=1000, description=f"ConvFirstNet-{size.title()} (Table 3)")
    def builder(num_classes: int = 1000) -> nn.Sequential:
        return build_convfirstnet(size, num_classes)


for _size in _CONFIGS:
    _register(_size)
