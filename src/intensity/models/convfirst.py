"""ConvFirstNet (seed 001 6.1, Table 3) from the ConvFirst and MBConv blocks of models/layers.py
(seed 001 5.3-5.4, Fig. 6, 9).

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

from torch import nn

from intensity.models._registry import register_model
from intensity.models.layers import BlurPool, ConvFirst, MBConv, SqueezeExcite, conv_bn  # noqa: F401 (re-exported)

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
