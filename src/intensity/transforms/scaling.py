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

phi is bounded to [-PHI_LIMIT, PHI_LIMIT] (EfficientNet B0-B7 use 0..7) and refused when a width
or the resolution would fall below 1, or when the scaled weights would exceed `max_bytes` on a
real device; with `meta=True` (or a model already on the meta device) nothing is allocated and
the result only serves analysis (flops, bytes, intensity).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
from torch import nn

from intensity.transforms.widths import rewrite_widths, trace
from intensity.validate import check_number, check_positive

PHI_LIMIT = 8.0
MAX_BYTES = 1024**3  # fp32 weights of a scaled model on a real device: beyond, use meta=True


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
    """Resize each Linear whose input feature count changed with the resolution.

    The features are found on a meta copy (shapes only, no compute), then the real layers resized.
    """
    shadow = copy.deepcopy(model).to("meta")
    features: dict[str, int] = {}

    def refit(module: nn.Linear, args: tuple, name: str) -> None:
        if args[0].shape[-1] != module.in_features:
            features[name] = args[0].shape[-1]
            module.in_features = args[0].shape[-1]
            module.weight = nn.Parameter(torch.empty(module.out_features, module.in_features, device="meta"))

    for name, module in shadow.named_modules():
        if isinstance(module, nn.Linear):
            module.register_forward_pre_hook(lambda m, a, name=name: refit(m, a, name))
    with torch.no_grad():
        shadow(torch.zeros(1, *input_shape, device="meta"))
    for name, count in features.items():
        linear = model.get_submodule(name)
        linear.in_features = count
        linear.weight = nn.Parameter(torch.empty(linear.out_features, count, device=linear.weight.device))
        if linear.weight.device.type != "meta":
            linear.reset_parameters()


def _check_phi(phi: object) -> float:
    return check_number(phi, "phi", low=-PHI_LIMIT, high=PHI_LIMIT,
                        example="-1 (smaller) or 1 (larger); EfficientNet B0-B7 use 0..7")


def _check_sizes(model: nn.Module, input_shape: tuple[int, ...], width: float, resolution: float, phi: float) -> None:
    narrowest = min((m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d)), default=1)
    if narrowest * width < 1:
        raise ValueError(f"phi = {phi} shrinks the narrowest layer ({narrowest} channels) below one channel "
                         f"(x {width:.3g}); use a phi closer to 0")
    if min(input_shape[1:]) * resolution < 1:
        raise ValueError(f"phi = {phi} shrinks the {'x'.join(map(str, input_shape[1:]))} input below one pixel; "
                         f"use a phi closer to 0")


def _check_memory(model: nn.Module, depth: float, width: float, phi: float, max_bytes: int) -> None:
    """Weights grow about as width^2 (and depth for Sequential models): refuse what would not fit."""
    deeper = max(1.0, depth) if isinstance(model, nn.Sequential) else 1.0  # only Sequential runs deepen
    estimate = 4 * sum(p.numel() for p in model.parameters()) * width**2 * deeper
    if estimate > max_bytes:
        raise ValueError(f"phi = {phi} would allocate about {estimate / 1024**3:.1f} GiB of weights; pass meta=True "
                         f"to analyse the scaled model without allocating it, or use a smaller phi")


def compound_scale(model: nn.Module, input_shape: tuple[int, ...], phi: float = -1, alpha: float = 1.1,
                   beta: float = 1.2, gamma: float = 1.15, *, meta: bool = False,
                   max_bytes: int = MAX_BYTES) -> CompoundScaled:
    """Scale depth, width and resolution by alpha, beta, gamma to the power phi (see module doc).

    `meta=True` scales a meta-device copy: no memory, no compute; the result serves analysis only.
    """
    phi = _check_phi(phi)
    for value, name in ((alpha, "alpha"), (beta, "beta"), (gamma, "gamma")):
        check_positive(value, name, example="EfficientNet's alpha 1.2, beta 1.1, gamma 1.15")
    depth, width, resolution = alpha**phi, beta**phi, gamma**phi
    _check_sizes(model, input_shape, width, resolution, phi)
    on_meta = meta or next((p.is_meta for p in model.parameters()), False)
    if not on_meta:
        _check_memory(model, depth, width, phi, max_bytes)
    elif meta:
        model = copy.deepcopy(model).to("meta")
    notes = ["built on the meta device: for analysis only (no weights)"] if on_meta else []
    if isinstance(model, nn.Sequential):
        model = _scale_depth(model, depth)
    elif depth != 1:
        notes.append("depth unchanged: only nn.Sequential models have their conv runs depth-scaled")
    traced = trace(model)
    rewrite_widths(traced, input_shape, 1, lambda c, groups: max(groups, round(c * width / groups) * groups), 1)
    new_shape = (input_shape[0], *(max(1, round(d * resolution)) for d in input_shape[1:]))
    _fit_linears(traced, new_shape)
    return CompoundScaled(traced, new_shape, depth, width, resolution, notes)
