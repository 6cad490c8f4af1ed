"""Compound scaling (EfficientNet; seed 000 5.3 baseline and footnote 6): depth x alpha^phi,
width x beta^phi, input resolution x gamma^phi, with alpha = 1.1, beta = 1.2, gamma = 1.15 and
phi = -1 (a smaller model) by default.

- width: every inner conv/linear output width is round(C * beta^phi) (input channels and the
  classifier's outputs stay); the graph is rewritten like folding does;
- depth: in an nn.Sequential model (seed 000's specialized CNNs), every run of consecutive
  width-preserving conv + activation pairs (e.g. the B blocks) keeps max(1, ceil(L * alpha^phi))
  pairs; other models keep their depth, and the result says so;
- resolution: H and W are multiplied by gamma^phi (rounded); linear layers after a flatten are
  resized to the new feature count. The scaled model is a new architecture with fresh weights.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
from torch import nn

from intensity.transforms.folding import rewrite_widths, trace


@dataclass
class CompoundScaled:
    model: nn.Module
    input_shape: tuple[int, ...]
    depth: float
    width: float
    resolution: float
    notes: list[str] = field(default_factory=list)


def _is_keeping_conv(module: nn.Module) -> bool:
    return (isinstance(module, nn.Conv2d) and module.in_channels == module.out_channels and module.stride == (1, 1)
            and all(p == k // 2 for p, k in zip(module.padding, module.kernel_size)))


def _scale_depth(model: nn.Sequential, multiplier: float) -> nn.Sequential:
    layers, index, items = [], 0, list(model)
    while index < len(items):
        run = index
        while run + 1 < len(items) and _is_keeping_conv(items[run]) and not isinstance(items[run + 1], nn.Conv2d):
            run += 2
        pairs = (run - index) // 2
        if pairs:
            keep = max(1, math.ceil(pairs * multiplier))  # EfficientNet rounds repeats up
            template = items[index:index + 2]
            layers += [copy.deepcopy(m) for _ in range(keep) for m in template]
            index = run
        else:
            layers.append(items[index])
            index += 1
    return nn.Sequential(*layers)


def _fit_linears(model: nn.Module, input_shape: tuple[int, ...]) -> None:
    """Resize each Linear whose input feature count changed with the resolution."""

    def refit(module: nn.Linear, args: tuple) -> None:
        features = args[0].shape[-1]
        if features != module.in_features:
            module.in_features = features
            module.weight = nn.Parameter(torch.empty(module.out_features, features))
            nn.init.kaiming_uniform_(module.weight, a=5 ** 0.5)

    handles = [m.register_forward_pre_hook(refit) for m in model.modules() if isinstance(m, nn.Linear)]
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        for handle in handles:
            handle.remove()


def compound_scale(model: nn.Module, input_shape: tuple[int, ...], phi: float = -1, alpha: float = 1.1,
                   beta: float = 1.2, gamma: float = 1.15) -> CompoundScaled:
    if min(alpha, beta, gamma) <= 0:
        raise ValueError("alpha, beta and gamma must be positive (EfficientNet: 1.2, 1.1, 1.15)")
    depth, width, resolution = alpha**phi, beta**phi, gamma**phi
    notes = []
    if isinstance(model, nn.Sequential):
        model = _scale_depth(model, depth)
    elif depth != 1:
        notes.append("depth unchanged: only nn.Sequential models have their conv runs depth-scaled")
    traced = trace(model)
    rewrite_widths(traced, input_shape, 1, lambda c, groups: max(groups, round(c * width / groups) * groups), 1)
    new_shape = (input_shape[0], *(max(1, round(d * resolution)) for d in input_shape[1:]))
    _fit_linears(traced, new_shape)
    return CompoundScaled(traced, new_shape, depth, width, resolution, notes)
