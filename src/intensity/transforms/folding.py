"""FoldedCNNs (seed 000 3, 4.1): stack f images on the channel axis and widen the CNN by sqrt(f).

`fold(model, f)` traces the model with torch.fx and rebuilds every layer with parameters with
folded widths (the width rewriting lives in transforms/widths.py, shared with compound scaling):
- the input carries C * f channels (image j of a group in channels [jC, (j+1)C));
- every conv or linear layer outputs floor(C_out * sqrt(f)) channels (5.1, footnote 5), or with
  `rounding="multiple-of-8"` that width rounded to a multiple of 8 (tensor cores, App. H);
  group convs keep their group count, widening the channels per group (App. C), and the layers
  feeding them round down to a multiple of it; depthwise convs stay depthwise;
- batch norms (timm's BatchNormAct2d too) widen; LayerNorm over channels (ConvNeXt) becomes a
  GroupedLayerNorm that normalises each image's share of the channels separately;
- the output layer outputs f * C_L logits: image j's in [jK, (j+1)K).
Flatten/reshape scale with the channels; concat (DenseNet) adds them; channel shuffle and
chunk (ShuffleNet) get widths they divide; residual adds need both sides folded alike.
Transformers are refused: attention has no channel axis to stack images on. Folding is not
output-preserving: the folded CNN is a new, wider architecture (fresh weights) that must be
trained (seed 000 4.2).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn
from torch.nn import functional as F
from torch.utils._pytree import tree_flatten, tree_map_only

from intensity.validate import check_fits

from intensity.transforms.widths import FoldedLayer, refuse_attention_modules, rewrite_widths, trace

ROUNDINGS = ("floor", "multiple-of-8")
DEFAULT_INPUT = (3, 224, 224)
__all__ = ["FoldResult", "FoldedLayer", "FoldedModel", "GroupedLayerNorm", "cascade_break_even", "check_factor",
           "fold", "fold_inputs", "folded_width", "rewrite_widths", "trace", "traffic_falls", "unfold_outputs"]


def check_factor(f: object) -> int:
    if isinstance(f, bool) or not isinstance(f, int):
        if isinstance(f, float) and f.is_integer():
            return check_factor(int(f))
        raise ValueError(f"the folding factor f must be an integer >= 1, got {f!r}")
    if f < 1:
        raise ValueError(f"the folding factor f must be >= 1, got {f}")
    return f


def folded_width(channels: int, f: int, rounding: str = "floor", multiple: int = 1) -> int:
    """floor(channels * sqrt(f)) rounded down to a multiple of `multiple` (a group count a layer
    needs; at least one multiple); or the nearest multiple of lcm(8, multiple) (App. H)."""
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown rounding {rounding!r}; choose one of {', '.join(ROUNDINGS)}")
    if rounding == "floor":
        return max(multiple, math.floor(channels * math.sqrt(f) + 1e-9) // multiple * multiple)
    step = math.lcm(8, multiple)
    return max(step, round(channels * math.sqrt(f) / step) * step)


# --- data ---------------------------------------------------------------------------------------

def fold_inputs(x: torch.Tensor, f: int) -> torch.Tensor:
    """(N, C, H, W) -> (ceil(N / f), f * C, H, W); a partial last group is zero-padded."""
    f = check_factor(f)
    padding = (-x.shape[0]) % f
    if padding:
        x = torch.cat([x, x.new_zeros(padding, *x.shape[1:])])
    return x.reshape(x.shape[0] // f, f * x.shape[1], *x.shape[2:])


def unfold_outputs(y: torch.Tensor, f: int, n: int | None = None) -> torch.Tensor:
    """(N / f, f * K) -> (N, K), dropping padded images beyond `n`."""
    f = check_factor(f)
    if y.shape[1] % f:
        raise ValueError(f"folded outputs have {y.shape[1]} features, not a multiple of f = {f}")
    out = y.reshape(y.shape[0] * f, y.shape[1] // f, *y.shape[2:])
    return out if n is None else out[:n]


class FoldedModel(nn.Module):
    """A folded CNN that takes and returns ordinary batches: fold, run, unfold.

    Outputs keep the model's structure: a tensor, or a tuple, list or dict of them (each unfolded).
    """

    def __init__(self, folded: nn.Module, f: int, in_channels: int) -> None:
        super().__init__()
        self.folded, self.f, self.in_channels = folded, check_factor(f), in_channels

    def forward(self, x: torch.Tensor) -> Any:
        if not isinstance(x, torch.Tensor) or x.ndim < 2:
            raise ValueError(f"FoldedModel takes one batch tensor (N, C, ...), not {type(x).__name__}")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"input has {x.shape[1]} channels; this FoldedModel takes {self.in_channels}")
        out = self.folded(fold_inputs(x, self.f))
        return tree_map_only(torch.Tensor, lambda y: unfold_outputs(y, self.f, x.shape[0]), out)


# --- the transform ------------------------------------------------------------------------------

class GroupedLayerNorm(nn.Module):
    """LayerNorm over channels, taken separately over each of `groups` equal channel shares.

    A folded CNN carries f images per input. ConvNeXt-style LayerNorm normalises all channels at
    each position; over the folded width that would mix the f images' statistics. So the folded
    model normalises each image's share of channels (width / f of them) separately, at each
    position: a GroupNorm with f groups, but per position as LayerNorm is (GroupNorm would also
    pool over H and W). The affine weight and bias (width / f each) are shared by the shares, as
    the f images are interchangeable; that keeps it one layer_norm kernel. `dim` is the channel
    axis (1 for NCHW, -1 for channels-last).
    """

    def __init__(self, width: int, groups: int, dim: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__()
        if width % groups:
            raise ValueError(f"GroupedLayerNorm: {width} channels do not split into {groups} equal groups")
        self.width, self.groups, self.dim, self.eps = width, groups, dim, eps
        share = width // groups
        self.weight = nn.Parameter(torch.ones(share)) if affine else None
        self.bias = nn.Parameter(torch.zeros(share)) if affine else None

    def reset_parameters(self) -> None:
        if self.weight is not None:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dim = self.dim % x.ndim
        moved = x.movedim(dim, -1).unflatten(-1, (self.groups, self.width // self.groups))
        out = F.layer_norm(moved, (self.width // self.groups,), self.weight, self.bias, self.eps)
        return out.flatten(-2).movedim(-1, dim)


@dataclass
class FoldResult:
    """A folded CNN and how it was made. `model` takes folded input (f * C channels); `wrapped()`
    takes ordinary batches."""

    model: nn.Module
    f: int
    input_shape: tuple[int, ...]  # one original image, (C, H, W)
    layers: list[FoldedLayer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def folded_input_shape(self) -> tuple[int, ...]:
        return (self.input_shape[0] * self.f, *self.input_shape[1:])

    def wrapped(self) -> FoldedModel:
        return FoldedModel(self.model, self.f, self.input_shape[0])


def _norm_factory(f: int):  # noqa: ANN202
    def make(old: nn.LayerNorm, width: int, dim: int) -> nn.Module:
        norm = GroupedLayerNorm(width, f, dim, old.eps, old.weight is not None)
        return norm.to(old.weight.device) if old.weight is not None else norm
    return make


def _resolve(model: nn.Module | str, input_shape: tuple[int, ...] | None) -> tuple[nn.Module, tuple[int, ...],
                                                                                 list[str]]:
    if isinstance(model, str):
        from intensity.models import resolve_model  # sibling layer; only names need it

        resolved = resolve_model(model)
        if input_shape is None:
            shape = tuple(resolved.input_shape)
            return resolved.module, shape, [f"input shape {_text(shape)}: {model}'s own"]
        return resolved.module, tuple(input_shape), [f"input shape {_text(input_shape)}: as given"]
    if not isinstance(model, nn.Module):
        raise ValueError(f"fold() takes an nn.Module or a model name, not {type(model).__name__}")
    if input_shape is None:
        return model, DEFAULT_INPUT, [f"input shape {_text(DEFAULT_INPUT)}: the default (pass input_shape)"]
    return model, tuple(input_shape), [f"input shape {_text(input_shape)}: as given"]


def _text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _check_shape(shape: tuple[int, ...]) -> None:
    if len(shape) != 3 or any(not isinstance(d, int) or d < 1 for d in shape):
        raise ValueError(f"input_shape must be one image's (C, H, W) of positive integers, e.g. (3, 224, 224); "
                         f"got {shape!r}")


def fold(model: nn.Module | str, f: int, input_shape: tuple[int, ...] | None = None, *,
         rounding: str = "floor") -> FoldResult:
    """The FoldedCNN of `model` (a module, or a zoo / 'torchvision:' / 'timm:' name) for factor f.

    Every inner conv/linear outputs floor(C sqrt f) channels, rounded down to a multiple of any
    group count a later layer needs; depthwise convs stay depthwise; batch norms (and subclasses)
    widen; LayerNorm over channels becomes GroupedLayerNorm (each image's channel share apart);
    concatenation and channel shuffle follow the widths. A layer folding cannot follow is refused
    with its node name and the reason. A name uses the model's own input shape unless one is
    given; `notes` says which.
    """
    f = check_factor(f)
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown rounding {rounding!r}; choose one of {', '.join(ROUNDINGS)}")
    module, shape, notes = _resolve(model, input_shape)
    _check_shape(shape)
    _check_fold_fits(module, f)
    if f == 1:
        return FoldResult(copy.deepcopy(module), 1, shape, [], notes)
    refuse_attention_modules(module)
    traced = trace(module)
    _check_one_input(traced)
    rewriter = rewrite_widths(traced, shape, f, lambda c, m: folded_width(c, f, rounding, m), f,
                              norm_factory=_norm_factory(f), norm_groups=f)
    rounded = [layer.name for layer in rewriter.layers if layer.kind == "conv" and layer.after[1] not in
               (folded_width(layer.before[1], f, rounding), layer.before[1] * f)]
    if rounded:
        notes.append(f"{len(rounded)} conv(s) not at floor(C sqrt f): depthwise, or rounded for groups/norms")
    _check_outputs_fold(module, traced, shape, f)
    return FoldResult(traced, f, shape, rewriter.layers, notes)


def _check_fold_fits(module: nn.Module, f: int) -> None:
    """Widths grow by sqrt(f), so weights by about f: refuse, before building, a folded model whose
    fp32 weights would not fit in this machine's memory (fold(..., 10**6) once tried 1.7 TB)."""
    params = sum(p.numel() for p in module.parameters())
    on_meta = any(p.is_meta for p in module.parameters())  # nothing allocated: only indexing limits
    check_fits(params * f * 4, f"the folded model's weights (f = {f} x {params:,} parameters, fp32)",
               "give a smaller `f` (the seed folds with f = 2 to 16)",
               limit=2.0**62 if on_meta else None, room="what a tensor can index" if on_meta else "")


def _check_one_input(traced: fx.GraphModule) -> None:
    """Folding stacks the images of one input on its channel axis: a model needing several is refused."""
    needed = [n.target for n in traced.graph.nodes if n.op == "placeholder" and not n.args]
    if len(needed) > 1:
        raise ValueError(f"folding stacks the f images of one input on its channel axis; this model "
                         f"takes {len(needed)} inputs ({', '.join(map(str, needed))}): fold a model "
                         f"with one image input, or analyze it unfolded (`input_shape` per input)")


def _check_outputs_fold(original: nn.Module, folded: nn.Module, shape: tuple[int, ...], f: int) -> None:
    """Every output of the folded model must carry f times the original's features (image j's in
    block j), or unfolding would split it wrongly: a second head or a returned inner feature is
    widened by sqrt(f) only, and is refused by name rather than silently unfolded."""
    before, after = _meta_outputs(original, shape), _meta_outputs(folded, (shape[0] * f, *shape[1:]))
    if before is None or after is None:
        return  # a model that does not run on meta tensors: FoldedModel checks at run time
    (old, old_spec), (new, new_spec) = before, after
    if old_spec != new_spec:
        raise ValueError(f"folding changed the structure of the model's outputs ({old_spec} -> {new_spec})")
    for index, (a, b) in enumerate(zip(old, new)):
        if a.ndim < 2 or b.ndim != a.ndim or b.shape[1] != f * a.shape[1]:
            raise ValueError(f"output {index} of the model has {_features(a)} features but "
                             f"{_features(b)} after folding, not f x {_features(a)}: folding widens "
                             f"only the last conv/linear into f x K outputs, so a model returning "
                             f"several heads or inner features cannot be unfolded; fold a model whose "
                             f"outputs all come from its last layer")


def _features(tensor: torch.Tensor) -> str:
    return str(tensor.shape[1]) if tensor.ndim >= 2 else "no channel axis of"


def _meta_outputs(module: nn.Module, shape: tuple[int, ...]) -> tuple[list, Any] | None:
    """The model's output leaves (tensors) and their structure on a meta batch of 2, or None."""
    params = {n: torch.empty_like(p, device="meta") for n, p in module.named_parameters()}
    buffers = {n: torch.empty_like(b, device="meta") for n, b in module.named_buffers()}
    try:
        with torch.no_grad():
            out = torch.func.functional_call(module, (params, buffers),
                                             (torch.zeros(2, *shape, device="meta"),), strict=False)
    except Exception:  # noqa: BLE001 (data-dependent models: checked when run instead)
        return None
    leaves, spec = tree_flatten(out)
    return [t for t in leaves if isinstance(t, torch.Tensor)], spec


def cascade_break_even(speedup: float, accuracy_drop: float) -> float:
    """App. G: the largest T_g / T_s for which the folded filter still speeds up the cascade."""
    if not (math.isfinite(speedup) and speedup > 0):
        raise ValueError(f"`speedup` must be a finite positive number (e.g. 2.5), got {speedup}")
    if not 0 < accuracy_drop <= 1:
        raise ValueError(f"`accuracy_drop` is a fraction in (0, 1] (0.0021 = 0.21 points), got {accuracy_drop}")
    return (1 - 1 / speedup) / accuracy_drop


def traffic_falls(n: int, h: int, w: int, c_in: int, c_out: int, kernel: int | tuple[int, int], f: int) -> bool:
    """App. J Eqn 5: folding reduces this conv's memory traffic iff
    NHW > (f - 1) Ci Kh Kw Co / ((1 - 1/sqrt(f)) (Ci + Co)); `kernel` is K or (Kh, Kw)."""
    if f <= 1:
        return False
    area = math.prod(kernel) if isinstance(kernel, tuple) else kernel**2
    return n * h * w > (f - 1) * c_in * area * c_out / ((1 - 1 / math.sqrt(f)) * (c_in + c_out))

