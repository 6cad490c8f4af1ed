"""The zoo's registry: model files register here, and models/__init__ reads it (no import cycle)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from intensity.registry import Registry

DEFAULT_INPUT = (3, 224, 224)


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., torch.nn.Module]
    family: str
    input_shape: tuple[int, ...]
    num_classes: int
    description: str = ""


MODELS: Registry[ModelEntry] = Registry(
    "model", hint="run `intensity list-models` for the zoo, or use torchvision:NAME, timm:NAME "
                  "or package.module:callable")


def register_model(name: str, *, family: str, input_shape: tuple[int, ...], num_classes: int,
                   description: str = "") -> Callable:
    """Decorator: register a zero-argument-capable builder under `name`."""

    def decorate(builder: Callable[..., torch.nn.Module]) -> Callable[..., torch.nn.Module]:
        MODELS.add(name, ModelEntry(name, builder, family, input_shape, num_classes, description))
        return builder

    return decorate
