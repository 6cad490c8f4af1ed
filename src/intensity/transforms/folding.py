"""FoldedCNNs (seed 000 3, 4.1): stack f images on the channel axis and widen the CNN by sqrt(f).

`fold(model, f)` traces the model with torch.fx, propagates channel widths through the graph and
rebuilds every Conv2d / Linear / BatchNorm with folded widths:
- the input carries C * f channels (image j of a group in channels [jC, (j+1)C));
- every conv or linear layer outputs floor(C_out * sqrt(f)) channels (5.1, footnote 5), or with
  `rounding="multiple-of-8"` that width rounded to a multiple of 8 (tensor cores, App. H);
  group convs keep their group count, widening the channels per group (App. C);
- the output layer outputs f * C_L logits: image j's in [jK, (j+1)K).
Flatten/reshape scale their feature dimension with the channels; concat adds them; residual
adds need both sides folded alike. Folding is not output-preserving: the folded CNN is a new,
wider architecture (fresh weights) that must be trained (seed 000 4.2).
"""
from __future__ import annotations

import copy
import math
import operator
from dataclasses import dataclass

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

ROUNDINGS = ("floor", "multiple-of-8")
_PASSTHROUGH = (nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.Sigmoid, nn.Tanh, nn.Hardswish, nn.Hardsigmoid,
                nn.LeakyReLU, nn.ELU, nn.Identity, nn.Dropout, nn.Dropout2d, nn.MaxPool2d, nn.AvgPool2d,
                nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
_RESHAPES = {torch.flatten, torch.reshape, "flatten", "view", "reshape"}
_JOINS = {operator.add, operator.sub, operator.mul, torch.add, torch.mul, torch.sub, "add", "mul", "sub"}


def check_factor(f: object) -> int:
    if isinstance(f, bool) or not isinstance(f, int):
        if isinstance(f, float) and f.is_integer():
            return check_factor(int(f))
        raise ValueError(f"the folding factor f must be an integer >= 1, got {f!r}")
    if f < 1:
        raise ValueError(f"the folding factor f must be >= 1, got {f}")
    return f


def folded_width(channels: int, f: int, rounding: str = "floor", groups: int = 1) -> int:
    """floor(channels per group * sqrt(f)) * groups; or the nearest multiple of lcm(8, groups)."""
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown rounding {rounding!r}; choose one of {', '.join(ROUNDINGS)}")
    if rounding == "floor":
        return groups * math.floor(channels // groups * math.sqrt(f) + 1e-9)
    step = math.lcm(8, groups)
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
    """A folded CNN that takes and returns ordinary batches: fold, run, unfold."""

    def __init__(self, folded: nn.Module, f: int, in_channels: int) -> None:
        super().__init__()
        self.folded, self.f, self.in_channels = folded, check_factor(f), in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.in_channels:
            raise ValueError(f"input has {x.shape[1]} channels; this FoldedModel takes {self.in_channels}")
        return unfold_outputs(self.folded(fold_inputs(x, self.f)), self.f, x.shape[0])


# --- the transform ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FoldedLayer:
    name: str
    kind: str
    before: tuple[int, int]  # (in, out) channels or features
    after: tuple[int, int]


def _dim1(node: fx.Node) -> int | None:
    meta = node.meta.get("tensor_meta")
    return meta.shape[1] if meta is not None and hasattr(meta, "shape") and len(meta.shape) > 1 else None


class WidthRewriter:
    """Rebuilds Conv2d/Linear/BatchNorm2d of a traced model with new widths, following the graph.

    The input's channels are multiplied by `input_factor`, every inner conv/linear output width is
    `inner_width(old_width, groups)`, and the output layer's width is multiplied by `output_factor`.
    Folding is (f, floor(C sqrt f), f); compound scaling is (1, round(C beta^phi), 1).
    """

    def __init__(self, traced: fx.GraphModule, input_factor: int, inner_width, output_factor: int) -> None:  # noqa: ANN001
        self.traced, self.input_factor = traced, input_factor
        self.inner_width, self.output_factor = inner_width, output_factor
        self.width: dict[fx.Node, int] = {}  # node -> its folded size along dim 1
        self.layers: list[FoldedLayer] = []
        self.output_layer = _output_layer(traced)

    def run(self) -> None:
        for node in self.traced.graph.nodes:
            if node.op == "placeholder":
                self.width[node] = _dim1(node) * self.input_factor
            elif node.op == "call_module":
                self._module(node)
            elif node.op in ("call_function", "call_method"):
                self._function(node)

    def _input(self, node: fx.Node) -> fx.Node:
        return next(a for a in node.args if isinstance(a, fx.Node))

    def _module(self, node: fx.Node) -> None:
        module = self.traced.get_submodule(node.target)
        source = self._input(node)
        new_in = self.width[source]
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            self._layer(node, module, new_in)
        elif isinstance(module, nn.BatchNorm2d):
            self._replace(node.target, nn.BatchNorm2d(new_in, module.eps, module.momentum, module.affine,
                                                       module.track_running_stats))
            self.width[node] = new_in
        elif isinstance(module, nn.Flatten):
            self.width[node] = self._reshaped(node, source)
        elif isinstance(module, _PASSTHROUGH) or not any(True for _ in module.parameters()):
            self._same(node, source, type(module).__name__)
        else:
            raise ValueError(f"cannot fold node {node.name!r} ({type(module).__name__}): supported layers "
                             f"are Conv2d, Linear, BatchNorm2d and parameter-free modules")

    def _layer(self, node: fx.Node, module: nn.Module, new_in: int) -> None:
        is_conv = isinstance(module, nn.Conv2d)
        old_in, old_out = (module.in_channels, module.out_channels) if is_conv else (module.in_features,
                                                                                     module.out_features)
        groups = module.groups if is_conv else 1
        if node is self.output_layer:
            new_out = old_out * self.output_factor
        else:
            new_out = self.inner_width(old_out, groups)
        if is_conv:
            if new_in % groups or new_out % groups:
                raise ValueError(f"cannot fold {node.name!r}: {new_in}->{new_out} channels do not divide "
                                 f"into its {groups} groups")
            replacement = nn.Conv2d(new_in, new_out, module.kernel_size, module.stride, module.padding,
                                    module.dilation, groups, module.bias is not None, module.padding_mode)
        else:
            replacement = nn.Linear(new_in, new_out, module.bias is not None)
        self._replace(node.target, replacement)
        self.width[node] = new_out
        self.layers.append(FoldedLayer(str(node.target), "conv" if is_conv else "linear", (old_in, old_out),
                                       (new_in, new_out)))

    def _function(self, node: fx.Node) -> None:
        tensors = [a for a in node.args if isinstance(a, fx.Node) and a in self.width]
        if _dim1(node) is None or not tensors:
            return  # sizes, shapes and other non-tensor values
        if node.target in (torch.cat, "cat"):
            self._concat(node)
        elif node.target in _RESHAPES:
            self.width[node] = self._reshaped(node, tensors[0])
        elif node.target in _JOINS and len(tensors) > 1:
            widths = {self.width[t] for t in tensors if _dim1(t) != 1}
            if len(widths) > 1:
                raise ValueError(f"cannot fold {node.name!r}: it combines tensors folded to "
                                 f"{sorted(widths)} channels (a residual around a layer that changes width)")
            self.width[node] = widths.pop() if widths else self.width[tensors[0]]
        else:
            self._same(node, tensors[0], str(node.target))

    def _concat(self, node: fx.Node) -> None:
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
        if dim != 1:
            raise ValueError(f"cannot fold {node.name!r}: concatenation along dim {dim}, not channels")
        self.width[node] = sum(self.width[t] for t in node.args[0])

    def _same(self, node: fx.Node, source: fx.Node, what: str) -> None:
        if _dim1(node) != _dim1(source):
            raise ValueError(f"cannot fold {node.name!r} ({what}): it changes dimension 1 from "
                             f"{_dim1(source)} to {_dim1(node)} in a way folding cannot follow")
        self.width[node] = self.width[source]

    def _reshaped(self, node: fx.Node, source: fx.Node) -> int:
        old_in, new_in, old_out = _dim1(source), self.width[source], _dim1(node)
        if (old_out * new_in) % old_in:
            raise ValueError(f"cannot fold {node.name!r}: its reshape does not scale with the channels")
        return old_out * new_in // old_in

    def _replace(self, target: str, module: nn.Module) -> None:
        parent_name, _, child = target.rpartition(".")
        setattr(self.traced.get_submodule(parent_name) if parent_name else self.traced, child, module)


def trace(model: nn.Module) -> fx.GraphModule:
    try:
        return fx.symbolic_trace(copy.deepcopy(model).eval())
    except Exception as error:  # tracing failures name the construct fx could not follow
        raise ValueError(f"cannot transform {type(model).__name__}: torch.fx could not trace it ({error})") from None


def rewrite_widths(traced: fx.GraphModule, input_shape: tuple[int, ...], input_factor: int, inner_width,  # noqa: ANN001
                   output_factor: int) -> WidthRewriter:
    """Apply a WidthRewriter in place (shapes come from one example input of `input_shape`)."""
    ShapeProp(traced).propagate(torch.zeros(1, *input_shape))
    rewriter = WidthRewriter(traced, input_factor, inner_width, output_factor)
    rewriter.run()
    traced.recompile()
    return rewriter


def _output_layer(traced: fx.GraphModule) -> fx.Node | None:
    """The last Conv2d/Linear node: its outputs become f * C_L."""
    last = None
    for node in traced.graph.nodes:
        if node.op == "call_module" and isinstance(traced.get_submodule(node.target), (nn.Conv2d, nn.Linear)):
            last = node
    return last


def fold_with_layers(model: nn.Module, f: int, input_shape: tuple[int, ...], *,
                     rounding: str = "floor") -> tuple[nn.Module, list[FoldedLayer]]:
    """The folded model (takes folded input) and each conv/linear layer's widths before and after."""
    f = check_factor(f)
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown rounding {rounding!r}; choose one of {', '.join(ROUNDINGS)}")
    if f == 1:
        return copy.deepcopy(model), []
    traced = trace(model)
    folder = rewrite_widths(traced, input_shape, f, lambda c, g: folded_width(c, f, rounding, g), f)
    _check_runs(traced, f, input_shape)
    return traced, folder.layers


def fold(model: nn.Module, f: int, input_shape: tuple[int, ...] = (3, 224, 224), *,
         rounding: str = "floor") -> nn.Module:
    """The folded CNN of `model` for factor `f` (takes folded input: see FoldedModel)."""
    return fold_with_layers(model, f, input_shape, rounding=rounding)[0]


def _check_runs(folded: nn.Module, f: int, input_shape: tuple[int, ...]) -> None:
    try:
        with torch.no_grad():
            folded(torch.zeros(1, input_shape[0] * f, *input_shape[1:]))
    except Exception as error:
        raise ValueError(f"the folded model does not run ({type(error).__name__}: {error}); a layer "
                         f"probably hard-codes a width") from None


def cascade_break_even(speedup: float, accuracy_drop: float) -> float:
    """App. G: the largest T_g / T_s for which the folded filter still speeds up the cascade."""
    if speedup <= 0 or accuracy_drop <= 0:
        raise ValueError("speedup and accuracy drop must be positive (e.g. 2.5 and 0.0021)")
    return (1 - 1 / speedup) / accuracy_drop


def traffic_falls(n: int, h: int, w: int, c_in: int, c_out: int, kernel: int | tuple[int, int], f: int) -> bool:
    """App. J Eqn 5: folding reduces this conv's memory traffic iff
    NHW > (f - 1) Ci Kh Kw Co / ((1 - 1/sqrt(f)) (Ci + Co)); `kernel` is K or (Kh, Kw)."""
    if f <= 1:
        return False
    area = math.prod(kernel) if isinstance(kernel, tuple) else kernel**2
    return n * h * w > (f - 1) * c_in * area * c_out / ((1 - 1 / math.sqrt(f)) * (c_in + c_out))

