"""Specialized CNNs of seed 000 (FoldedCNNs), Table 1 and App. A.

Notation (App. A): CX is a 3x3 conv with X outputs, stride 1; M a max pool; FX a fully connected
layer with X outputs; B is C32 -> C32 -> C32. ReLU follows every conv and every FC but the last.

Conventions of the reference implementation, where the seed's text is silent or differs:
- convs use padding 1 and a bias;
- NoScope (N1-N4, 50x50, 2 classes): max pools 2x2 stride 2; dropout off (option `dropout`);
- game scraping (V1-V6), as in the authors' published code: the first and last max pools are
  MaxPool2d(3, stride=2), the pools between B blocks MaxPool2d(3, stride=1), none padded (App. A
  says "M is ... stride of 1" for all of them). So V1 at 22x52 runs its B convs at 10x25; with
  this convention the fp16 conv+FC intensities at batch 1024 fall in seed 000's "88-102" and
  the f = 4 intensity ratios match Table 5. Table 6's layer (32 channels at 11x26) is a worked
  example of a single layer, not one of V1's.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from intensity.models._registry import register_model


def _pool(kind: str, position: int, count: int) -> nn.Module:
    if kind == "noscope":
        return nn.MaxPool2d(2, 2)
    stride = 2 if position in (0, count - 1) else 1
    return nn.MaxPool2d(3, stride)  # unpadded, as the authors' code


def _tokens(spec: str) -> Iterator[str]:
    for token in spec.split():
        yield from ("C32", "C32", "C32") if token == "B" else (token,)


def build_specialized(spec: str, input_shape: tuple[int, int, int], pools: str,
                      dropout: float = 0.0) -> nn.Sequential:
    """A CNN from App. A notation, e.g. "C16 C16 M F128 F2", for a (C, H, W) input."""
    tokens = list(_tokens(spec))
    pool_count = tokens.count("M")
    layers: list[nn.Module] = []
    channels, pools_seen = input_shape[0], 0
    features: int | None = None
    for index, token in enumerate(tokens):
        last = index == len(tokens) - 1
        if token.startswith("C"):
            layers += [nn.Conv2d(channels, int(token[1:]), 3, padding=1), nn.ReLU(inplace=True)]
            channels = int(token[1:])
        elif token == "M":
            layers.append(_pool(pools, pools_seen, pool_count))
            pools_seen += 1
        elif token.startswith("F"):
            if features is None:
                features = _flat_features(nn.Sequential(*layers), input_shape)
                layers.append(nn.Flatten())
                if dropout:
                    layers.append(nn.Dropout(dropout))
            layers.append(nn.Linear(features, int(token[1:])))
            features = int(token[1:])
            if not last:
                layers.append(nn.ReLU(inplace=True))
        else:
            raise ValueError(f"unknown layer {token!r} in {spec!r}; use CX, M, B or FX")
    return nn.Sequential(*layers)


def _flat_features(body: nn.Sequential, input_shape: tuple[int, int, int]) -> int:
    with torch.device("meta"):
        return body(torch.empty(1, *input_shape)).numel()


# (name, App. A id, model, (H, W), classes)
_NOSCOPE = [
    ("coral", "N1", "C16 C16 M F128 F2"),
    ("night", "N2", "C16 C16 M F128 F2"),
    ("roundabout", "N3", "C32 C32 M C64 C64 M F32 F2"),
    ("taipei", "N4", "C64 C64 M F32 F2"),
]
_GAME = [
    ("lol-gold1", "V1", "C32 M B M C8 M F11", (22, 52), 11),
    ("apex-count", "V2", "C32 M B M C8 M F22", (19, 25), 22),
    ("sot-coin", "V3", "C32 M B M C8 M F15", (17, 40), 15),
    ("sot-time", "V4", "C32 M B M B M C8 M F27", (22, 30), 27),
    ("lol-gold2", "V5", "C32 M B M C8 M F111", (22, 52), 111),
    ("lol-time", "V6", "C32 M B M C8 M F62", (15, 35), 62),
]


def _register_noscope(name: str, ident: str, spec: str) -> None:
    @register_model(f"noscope-{name}", family="specialized (seed 000)", input_shape=(3, 50, 50),
                    num_classes=2, description=f"NoScope {ident} {name}: {spec.replace(' ', ' -> ')}")
    def builder(dropout: float = 0.0) -> nn.Sequential:
        return build_specialized(spec, (3, 50, 50), "noscope", dropout)


def _register_game(name: str, ident: str, spec: str, size: tuple[int, int], classes: int) -> None:
    @register_model(f"game-{name}", family="specialized (seed 000)", input_shape=(3, *size),
                    num_classes=classes, description=f"game scraping {ident} {name}: "
                                                     f"{spec.replace(' ', ' -> ')}")
    def builder() -> nn.Sequential:
        return build_specialized(spec, (3, *size), "game")


for _entry in _NOSCOPE:
    _register_noscope(*_entry)
for _entry in _GAME:
    _register_game(*_entry)
