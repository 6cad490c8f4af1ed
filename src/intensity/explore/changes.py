"""Local and global changes to a CNN (seed 002 4.4-4.6, Table 4.1), applied to NiN.

A local change alters one layer's dimensions (and the next layer's input): more input channels,
more filters in conv8, larger filters in conv7, more categories. A global change alters every
layer downstream: removing pool3, a larger input. For each we count the model with `analyze` and
report the ratios of total output activations (all kernels' outputs, the input data excluded, as
the seed's totals are), parameters and computation against unmodified NiN.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from intensity.models import create_model

NIN_INPUT = (3, 227, 227)
# seed 002 Table 4.1: (output, params, computation) ratios against NiN
TABLE_4_1 = {
    "4x more input channels": ("local", (1.0, 1.0, 1.3)),
    "4x more filters in conv8": ("local", (1.1, 1.1, 1.1)),
    "4x larger filter resolution in conv7": ("local", (1.0, 1.3, 1.3)),
    "4x more categories to classify": ("local", (1.0, 1.4, 1.1)),
    "remove pool3 downsampling layer": ("global", (2.6, 1.0, 3.8)),
    "4x larger input data resolution": ("global", (4.2, 1.0, 4.3)),
}


@dataclass(frozen=True)
class Change:
    modification: str
    kind: str  # local or global
    output_ratio: float
    params_ratio: float
    flops_ratio: float
    seed_ratios: tuple[float, float, float]  # Table 4.1's
    output_elements: int
    params: int
    flops: int


def _convs(model: nn.Sequential) -> list[int]:
    return [i for i, layer in enumerate(model) if isinstance(layer, nn.Conv2d)]


def _replace_conv(model: nn.Sequential, number: int, **changes: object) -> None:
    """Swap conv `number` (1-based) for one with the changed arguments."""
    index = _convs(model)[number - 1]
    old = model[index]
    args = {"in_channels": old.in_channels, "out_channels": old.out_channels,
            "kernel_size": old.kernel_size, "stride": old.stride, "padding": old.padding, **changes}
    model[index] = nn.Conv2d(**args)


def _more_input_channels(model: nn.Sequential) -> tuple[int, ...]:
    _replace_conv(model, 1, in_channels=12)  # 4 RGB frames stacked (4.5.2)
    return (12, 227, 227)


def _more_conv8_filters(model: nn.Sequential) -> tuple[int, ...]:
    _replace_conv(model, 8, out_channels=1536)  # 4.5.3: conv9 takes 4x more channels too
    _replace_conv(model, 9, in_channels=1536)
    return NIN_INPUT


def _larger_conv7_filters(model: nn.Sequential) -> tuple[int, ...]:
    _replace_conv(model, 7, kernel_size=6, padding=2)  # 4.5.4: 3x3 -> 6x6, border 2 -> 12x12
    return NIN_INPUT


def _remove_pool3(model: nn.Sequential) -> tuple[int, ...]:
    del model[_convs(model)[2] + 2]  # conv3, its ReLU, then pool3 (4.6.1)
    return NIN_INPUT


_CHANGES: dict[str, Callable[[], tuple[nn.Module, tuple[int, ...]]]] = {}


def _variant(change: Callable[[nn.Sequential], tuple[int, ...]] | None = None, **kwargs: object):  # noqa: ANN202
    def build() -> tuple[nn.Module, tuple[int, ...]]:
        with torch.device("meta"):
            model = create_model("nin", **kwargs)
            shape = change(model) if change else NIN_INPUT
        return model, shape
    return build


VARIANTS = {
    "4x more input channels": _variant(_more_input_channels),
    "4x more filters in conv8": _variant(_more_conv8_filters),
    "4x larger filter resolution in conv7": _variant(_larger_conv7_filters),
    "4x more categories to classify": _variant(num_classes=4000),
    "remove pool3 downsampling layer": _variant(_remove_pool3),
    "4x larger input data resolution": lambda: (_variant()()[0], (3, 454, 454)),
}


def _count(model: nn.Module, shape: tuple[int, ...]) -> tuple[int, int, int]:
    from intensity.api import analyze

    report = analyze(model, input_shape=shape, name="nin")
    return (sum(k.output_elements for k in report.kernels), report.totals.params, report.totals.flops)


def nin_changes(batch: int = 1) -> list[Change]:  # noqa: ARG001 (ratios are batch-free)
    """Table 4.1 on our NiN: every modification's ratios of output, params and computation."""
    base = _count(*_variant()())
    results = [Change("initial CNN (NiN)", "none", 1.0, 1.0, 1.0, (1.0, 1.0, 1.0), *base)]
    for name, build in VARIANTS.items():
        counts = _count(*build())
        kind, seed = TABLE_4_1[name]
        ratios = [c / b for c, b in zip(counts, base)]
        results.append(Change(name, kind, *ratios, seed, *counts))
    return results


def changes(model: str) -> list[Change]:
    if model != "nin":
        raise ValueError(f"changes are defined for NiN (seed 002 Table 4.1), not {model!r}: "
                         f"use `intensity changes nin`")
    return nin_changes()
