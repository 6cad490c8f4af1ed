"""SqueezeNet and its design space (seed 002, ch. 5: Table 5.1, 5.5.1, 5.6).

A Fire module squeezes with s1x1 1x1 filters, then expands with e1x1 1x1 and e3x3 3x3 filters
(padding 1) whose outputs are concatenated; ReLU follows squeeze and expand. SqueezeNet v1.0 is
conv1 (96, 7x7/2) -> fire2-9 -> dropout 50% -> conv10 (1x1, classes) -> global average pool, with
3x3/2 max pools after conv1, fire4 and fire8 (v1.1: conv1 64 3x3/2, pools after conv1, fire3 and
fire5; torchvision's layout, ceil-mode pools).

The Fire metaparameters of 5.5.1 generate every Fire module: for Fire module i (0-based),
e_i = base_e + incr_e * floor(i / freq), e_i,3x3 = pct3x3 * e_i, e_i,1x1 = e_i - e_i,3x3 and
s_i,1x1 = SR * e_i. SqueezeNet is base_e = 128, incr_e = 128, pct3x3 = 0.5, freq = 2, SR = 0.125.
Bypass (5.6): `simple` adds identity bypasses around Fire modules 3, 5, 7, 9 (equal in and out
channels); `complex` also adds 1x1-conv bypasses around the remaining ones (2, 4, 6, 8).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from intensity.models._registry import register_model

BYPASSES = ("none", "simple", "complex")


@dataclass(frozen=True)
class FireDims:
    squeeze: int
    expand1x1: int
    expand3x3: int

    @property
    def out_channels(self) -> int:
        return self.expand1x1 + self.expand3x3


class Fire(nn.Module):
    def __init__(self, in_channels: int, dims: FireDims) -> None:
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(in_channels, dims.squeeze, 1), nn.ReLU(inplace=True))
        self.expand1x1 = nn.Sequential(nn.Conv2d(dims.squeeze, dims.expand1x1, 1), nn.ReLU(inplace=True))
        self.expand3x3 = nn.Sequential(nn.Conv2d(dims.squeeze, dims.expand3x3, 3, padding=1),
                                       nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze(x)
        return torch.cat([self.expand1x1(x), self.expand3x3(x)], 1)


class Bypassed(nn.Module):
    """A Fire module with a bypass: identity (simple) or a 1x1 conv to the output width (complex)."""

    def __init__(self, fire: Fire, shortcut: nn.Module) -> None:
        super().__init__()
        self.fire = fire
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fire(x) + self.shortcut(x)


def fire_dims(base_e: int = 128, incr_e: int = 128, pct3x3: float = 0.5, freq: int = 2,
              sr: float = 0.125, num_fire: int = 8) -> list[FireDims]:
    """The Fire module dimensions of seed 002 5.5.1's metaparameters."""
    if not (0 <= pct3x3 <= 1 and 0 < sr <= 1 and freq >= 1 and base_e >= 1 and num_fire >= 1):
        raise ValueError("Fire metaparameters need base_e >= 1, freq >= 1, 0 <= pct3x3 <= 1 and "
                         f"0 < SR <= 1 (got base_e={base_e}, freq={freq}, pct3x3={pct3x3}, SR={sr})")
    dims = []
    for i in range(num_fire):
        expand = base_e + incr_e * (i // freq)
        expand3x3 = round(expand * pct3x3)
        dims.append(FireDims(max(1, math.ceil(sr * expand)), expand - expand3x3, expand3x3))
    return dims


def _fire_layer(index: int, in_channels: int, dims: FireDims, bypass: str) -> nn.Module:
    fire = Fire(in_channels, dims)
    number = index + 2  # Fire modules are named fire2..fire9
    if bypass != "none" and number % 2 == 1 and in_channels == dims.out_channels:
        return Bypassed(fire, nn.Identity())
    if bypass == "complex":
        return Bypassed(fire, nn.Conv2d(in_channels, dims.out_channels, 1))
    return fire


def build_squeezenet(dims: list[FireDims], *, stem: tuple[int, int], pools_after: tuple[int, ...],
                     num_classes: int = 1000, bypass: str = "none", dropout: float = 0.5) -> nn.Sequential:
    """conv1 -> Fire modules (max pool after the listed fire numbers) -> conv10 -> global pool."""
    if bypass not in BYPASSES:
        raise ValueError(f"unknown bypass {bypass!r}; choose one of {', '.join(BYPASSES)}")
    channels, kernel = stem
    layers: list[nn.Module] = [nn.Conv2d(3, channels, kernel, stride=2), nn.ReLU(inplace=True),
                               nn.MaxPool2d(3, 2, ceil_mode=True)]
    for index, fire in enumerate(dims):
        layers.append(_fire_layer(index, channels, fire, bypass))
        channels = fire.out_channels
        if index + 2 in pools_after:
            layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
    layers += [nn.Dropout(dropout), nn.Conv2d(channels, num_classes, 1), nn.ReLU(inplace=True),
               nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


_FAMILY = "SqueezeNet (seed 002)"


@register_model("squeezenet1_0", family=_FAMILY, input_shape=(3, 224, 224), num_classes=1000,
                description="SqueezeNet v1.0 (Table 5.1)")
def squeezenet1_0(num_classes: int = 1000, bypass: str = "none") -> nn.Sequential:
    return build_squeezenet(fire_dims(), stem=(96, 7), pools_after=(4, 8), num_classes=num_classes,
                            bypass=bypass)


@register_model("squeezenet1_1", family=_FAMILY, input_shape=(3, 224, 224), num_classes=1000,
                description="SqueezeNet v1.1 (2.4x fewer flops than v1.0)")
def squeezenet1_1(num_classes: int = 1000, bypass: str = "none") -> nn.Sequential:
    return build_squeezenet(fire_dims(), stem=(64, 3), pools_after=(3, 5), num_classes=num_classes,
                            bypass=bypass)


@register_model("squeezenet-simple-bypass", family=_FAMILY, input_shape=(3, 224, 224),
                num_classes=1000, description="v1.0 with identity bypasses around fire3/5/7/9 (5.6)")
def squeezenet_simple_bypass(num_classes: int = 1000) -> nn.Sequential:
    return squeezenet1_0(num_classes, bypass="simple")


@register_model("squeezenet-complex-bypass", family=_FAMILY, input_shape=(3, 224, 224),
                num_classes=1000, description="v1.0 with simple + 1x1-conv bypasses (5.6)")
def squeezenet_complex_bypass(num_classes: int = 1000) -> nn.Sequential:
    return squeezenet1_0(num_classes, bypass="complex")


@register_model("squeezenet-fire", family=_FAMILY, input_shape=(3, 224, 224), num_classes=1000,
                description="SqueezeNet-like model from Fire metaparameters (5.5.1)")
def squeezenet_fire(base_e: int = 128, incr_e: int = 128, pct3x3: float = 0.5, freq: int = 2,
                    sr: float = 0.125, bypass: str = "none", num_classes: int = 1000) -> nn.Sequential:
    return build_squeezenet(fire_dims(base_e, incr_e, pct3x3, freq, sr), stem=(96, 7),
                            pools_after=(4, 8), num_classes=num_classes, bypass=bypass)
