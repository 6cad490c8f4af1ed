"""Block-diagonal initialisation of a FoldedCNN: f independent narrow CNNs side by side.

A folded CNN's first layer sees image j in input channels [jC, (j+1)C) and its last layer gives
image j's logits in outputs [jK, (j+1)K). In between, a freshly initialised folded layer mixes
every image into every channel, so at step 0 each prediction depends on all f images of its group
and training must first learn to separate them. `block_diagonal_(model, f, channels)` instead
splits every conv/linear's inputs and outputs into f contiguous shares (share j of n channels is
[floor(jn/f), floor((j+1)n/f))) and keeps only the weights from share j to share j: image j then
has its own path of width ~C sqrt(f) / f, and training starts as f separate CNNs that may learn to
share (the zeroed weights still receive gradients). Each block is initialised as PyTorch
initialises a layer of the block's own fan-in (kaiming-uniform, a = sqrt(5); bias U(+-1/sqrt(fan
in))), so activations have the scale the original CNN has at its own initialisation.

`block_masks` gives the same blocks as 0/1 masks. Multiplying every gradient by its mask
(`mask_gradients`, the `separate` init of train/recipe.py) keeps the paths apart for the whole
run: the zeroed weights then never move, whatever the optimizer (Adam's step of a zero gradient is
zero; decoupled weight decay keeps a zero at zero). The model is still the dense FoldedCNN of the
seed (same layers, widths and flops); only its weights are block-diagonal. Why this matters: with
shared paths, Adam moves every zeroed weight by about the learning rate per step whatever its
gradient's size, so within a few hundred steps each image's activations carry the other images'
features as noise of the diagonal weights' size (benchmarks/results/fold_recipe_ablation_cpu.txt).
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def share_bounds(n: int, f: int, unit: int = 1) -> list[int]:
    """f + 1 boundaries splitting n channels (each `unit` features wide) into contiguous shares."""
    return [(j * n // f) * unit for j in range(f + 1)]


def _layer_inputs(model: nn.Module, example: torch.Tensor) -> list[tuple[nn.Module, int]]:
    """(layer, channels of the tensor it reads; for a linear layer after a flatten, the channels of
    the last layer's output it flattened) in execution order. A conv's own input is what counts: a
    residual shortcut reads a block's input, not the last layer's output."""
    seen: list[tuple[nn.Module, int]] = []
    last = {"channels": example.shape[1]}

    def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        fed = args[0].shape[1] if args and isinstance(args[0], torch.Tensor) and args[0].ndim > 1 else None
        seen.append((module, fed if fed is not None and not isinstance(module, nn.Linear) else last["channels"]))
        last["channels"] = output.shape[1]

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _LAYERS)]
    try:
        with torch.no_grad():
            model.eval()(example)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def _in_bounds(layer: nn.Module, channels: int, f: int) -> list[int]:
    width = layer.in_features if isinstance(layer, nn.Linear) else layer.in_channels
    if width == channels:
        return share_bounds(width, f)
    if isinstance(layer, nn.Linear) and width % channels == 0:  # after a flatten: channel-major
        return share_bounds(channels, f, width // channels)
    raise ValueError(f"block-diagonal init cannot split a layer of {width} inputs fed by {channels} channels; "
                     f"give `init='default'` for this architecture")


@torch.no_grad()
def _init_block(weight: torch.Tensor, bias: torch.Tensor | None, rows: slice, cols: slice) -> None:
    block = weight[rows, cols]
    nn.init.kaiming_uniform_(block, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(block[0].numel()) if block[0].numel() else 0
        nn.init.uniform_(bias[rows], -bound, bound)


def _blocks(model: nn.Module, f: int, input_shape: tuple[int, ...]) -> list[tuple[nn.Module, list[int], list[int]]]:
    """(layer, output share bounds, input share bounds) of every conv/linear of the folded model."""
    if any(getattr(m, "groups", 1) != 1 for m in model.modules() if isinstance(m, _LAYERS)):
        raise ValueError("block-diagonal init handles ungrouped convs only; give `init='default'`")
    mode = model.training
    example = torch.zeros(2, input_shape[0] * f, *input_shape[1:])
    try:
        found = _layer_inputs(model, example)
    finally:
        model.train(mode)
    blocks = []
    for layer, channels in found:
        out = layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels
        blocks.append((layer, share_bounds(out, f), _in_bounds(layer, channels, f)))
    return blocks


def block_masks(model: nn.Module, f: int, input_shape: tuple[int, ...]) -> dict[nn.Parameter, torch.Tensor]:
    """weight -> 0/1 mask of its diagonal blocks (1: from image j's share to image j's share)."""
    if f == 1:
        return {}
    masks = {}
    for layer, rows, cols in _blocks(model, f, input_shape):
        mask = torch.zeros_like(layer.weight, dtype=torch.bool)
        for j in range(f):
            mask[rows[j]:rows[j + 1], cols[j]:cols[j + 1]] = True
        masks[layer.weight] = mask
    return masks


@torch.no_grad()
def paths_are_separate(model: nn.Module, f: int, input_shape: tuple[int, ...]) -> bool:
    """Whether image 0's output of a block-diagonal model ignores the other images of its group:
    changing them moves it by less than a millionth of what changing image 0 itself does (in
    float64 on a copy: a deep net at initialisation barely responds to its input at all). False
    where a layer interleaves images' channels (concatenated folded branches put image 0's
    channels of the second branch after all images' of the first)."""
    probe = copy.deepcopy(model).double().eval()
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(3, f, *input_shape, generator=generator, dtype=torch.float64)
    images[1, 0] = images[0, 0]  # same image 0, other companions
    images[2, 1:] = images[0, 1:]  # other image 0, same companions
    out = probe(images.reshape(3, f * input_shape[0], *input_shape[1:]))
    share = out.shape[1] // f
    companions = float((out[0, :share] - out[1, :share]).abs().max())
    itself = float((out[0, :share] - out[2, :share]).abs().max())
    return companions <= 1e-6 * itself


def mask_gradients(masks: dict[nn.Parameter, torch.Tensor]) -> None:
    """Zero the gradients between different images' paths (call after backward, before step)."""
    for weight, mask in masks.items():
        if weight.grad is not None:
            weight.grad.mul_(mask.to(weight.grad.device))


@torch.no_grad()
def block_diagonal_(model: nn.Module, f: int, input_shape: tuple[int, ...]) -> nn.Module:
    """Re-initialise the folded `model` (input f x C channels of one image's (C, H, W)) in place."""
    if f == 1:
        return model
    for layer, rows, cols in _blocks(model, f, input_shape):
        layer.weight.zero_()
        for j in range(f):
            _init_block(layer.weight, layer.bias, slice(rows[j], rows[j + 1]), slice(cols[j], cols[j + 1]))
    return model
