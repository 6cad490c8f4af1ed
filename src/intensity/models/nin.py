"""Network-in-Network as seed 002 ch. 4 uses it (Table 4.2): 12 convs, ReLU after each, no batch
norm, 3x3/2 max pools after conv3, conv6 and conv9, and a 6x6 global average pool; dropout
(training only) after conv10. Input 3x227x227. Paddings are those that give Table 4.2's sizes:
conv4 (5x5) pads 2, conv7 and conv10 (3x3) pad 1.
"""
from __future__ import annotations

from torch import nn

from intensity.models._registry import register_model

# (kernel, stride, padding, output channels) per conv; a pool follows conv3, conv6 and conv9
_NIN = [(11, 4, 0, 96), (1, 1, 0, 96), (1, 1, 0, 96),
        (5, 1, 2, 256), (1, 1, 0, 256), (1, 1, 0, 256),
        (3, 1, 1, 384), (1, 1, 0, 384), (1, 1, 0, 384),
        (3, 1, 1, 1024), (1, 1, 0, 1024), (1, 1, 0, None)]


@register_model("nin", family="NiN (seed 002)", input_shape=(3, 227, 227), num_classes=1000,
                description="Network-in-Network, Table 4.2")
def nin(num_classes: int = 1000, dropout: float = 0.5) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for index, (kernel, stride, padding, out) in enumerate(_NIN, start=1):
        out = out or num_classes
        layers += [nn.Conv2d(channels, out, kernel, stride, padding), nn.ReLU(inplace=True)]
        channels = out
        if index in (3, 6, 9):
            layers.append(nn.MaxPool2d(3, 2))
        if index == 10:
            layers.append(nn.Dropout(dropout))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)
