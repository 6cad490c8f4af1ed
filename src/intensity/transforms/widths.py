"""Rewriting the channel widths of a traced CNN: shared by folding and compound scaling.

`rewrite_widths` traces nothing itself: it takes an fx graph (see `trace`), runs it node by node on
an example input of the new width and rebuilds every layer with parameters as the widths arrive:
- Conv2d / Linear (and subclasses, e.g. timm's Conv2dSame): the input width is whatever arrives;
  the output width is `inner_width(old, multiple)`, or `old * output_factor` for the output layer;
  a depthwise conv stays depthwise (groups = its new input width); a grouped conv keeps its group
  count, and the layers feeding it round their widths to a multiple of it;
- batch norms (BatchNorm2d and subclasses such as timm's BatchNormAct2d) and GroupNorm are widened
  in place, so a subclass keeps its fused activation;
- LayerNorm over channels (ConvNeXt) becomes `norm_factory(old_module, new_width, channel_dim)`;
- parameters used directly in the graph (layer scales) are widened where they meet an activation.
Widths that a later layer must divide (groups, `chunk`, channel shuffle's view, grouped norms) are
found first, on the original graph, and the producing layers round to a multiple of them.
Anything else that fixes a width (a hard-coded reshape, attention heads) is refused with the node's
name and the reason.
"""
from __future__ import annotations

import copy
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd

from intensity.errors import first_line

_LAYERS = (nn.Conv2d, nn.Linear)
_NORMS = (_BatchNorm, nn.GroupNorm, nn.LayerNorm)
_ATTENTION = {"scaled_dot_product_attention", "multi_head_attention_forward"}
_VIEWS = {torch.reshape, "view", "reshape"}
_CHUNKS = {torch.chunk, "chunk"}
_SPLITS = {torch.split, "split"}
_JOINS = {operator.add, operator.sub, operator.mul, torch.add, torch.mul, torch.sub, "add", "mul", "sub", "add_",
          "mul_"}


@dataclass(frozen=True)
class FoldedLayer:
    """A conv or linear layer's (in, out) channels or features before and after the rewrite."""

    name: str
    kind: str
    before: tuple[int, int]
    after: tuple[int, int]


class _Tracer(fx.Tracer):
    """Keeps every conv, linear and norm (and their subclasses) whole, so each can be widened."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, (*_LAYERS, *_NORMS, _ConvNd, nn.MultiheadAttention)) or super().is_leaf_module(m, qualname)


def trace(model: nn.Module) -> fx.GraphModule:
    """An fx graph of a deep copy of `model` in eval mode (eval: aux heads and dropout paths drop)."""
    model = copy.deepcopy(model).eval()
    try:
        graph = _Tracer().trace(model)
    except Exception as error:  # fx names the construct it could not follow
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"cannot transform {type(model).__name__}: torch.fx could not trace it ({first})") from None
    return fx.GraphModule(model, graph)


def _shape(node: fx.Node) -> tuple[int, ...] | None:
    meta = node.meta.get("tensor_meta")
    return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None


def _tensor_args(node: fx.Node) -> list[fx.Node]:
    return [a for a in (*node.args, *node.kwargs.values()) if isinstance(a, fx.Node)] + [
        a for arg in node.args if isinstance(arg, (list, tuple)) for a in arg if isinstance(a, fx.Node)]


def refuse_attention(traced: fx.GraphModule) -> None:
    """Folding stacks images on the channels of feature maps; attention mixes tokens instead."""
    for node in traced.graph.nodes:
        target = node.target if node.op != "call_module" else type(traced.get_submodule(node.target))
        name = getattr(target, "__name__", str(target))
        if name in _ATTENTION or target is nn.MultiheadAttention:
            raise ValueError(f"cannot fold a transformer: node {node.name!r} is attention over tokens; folding "
                             f"stacks f images on the channels of a CNN's feature maps. Fold a CNN instead")


def refuse_attention_modules(module: nn.Module) -> None:
    """The same refusal before tracing: a transformer's forward may not even trace (timm's ViT
    branches on tensor values under some global settings), and its attention modules say enough."""
    for name, child in module.named_modules():
        kind = type(child).__name__
        if isinstance(child, nn.MultiheadAttention) or kind in ("Attention", "MultiheadAttention", "SelfAttention"):
            raise ValueError(f"cannot fold a transformer: module {name!r} ({kind}) is attention over tokens; "
                             f"folding stacks f images on the channels of a CNN's feature maps. Fold a CNN instead")


class _Divisors:
    """For each node of the original graph, the multiple its rewritten width must be."""

    def __init__(self, traced: fx.GraphModule, norm_groups: int) -> None:
        self.traced, self.norm_groups = traced, norm_groups
        self.need: dict[fx.Node, int] = {}

    def run(self) -> dict[fx.Node, int]:
        for _ in range(50):  # requirements also flow forward through joins: iterate to a fixed point
            before = dict(self.need)
            for node in reversed(list(self.traced.graph.nodes)):
                self._visit(node)
            if before == self.need:
                break
        return self.need

    def _add(self, node: fx.Node, multiple: int) -> None:
        self.need[node] = math.lcm(self.need.get(node, 1), multiple)

    def _visit(self, node: fx.Node) -> None:
        if node.op == "call_module" and _is_grouped(self.traced.get_submodule(node.target)):
            self._add(node, self.traced.get_submodule(node.target).groups)
        if self._keeps_width(node):  # forward: a residual's or gate's two sides must end up equally wide
            for source in _tensor_args(node):
                if _dim1(source) == _dim1(node):
                    self._add(node, self.need.get(source, 1))
        ask = self._asks(node, self.need.get(node, 1))
        for source in _tensor_args(node):
            if source.op != "get_attr" and ask > 1:
                self._add(source, ask)

    def _keeps_width(self, node: fx.Node) -> bool:
        if node.op == "call_module":
            module = self.traced.get_submodule(node.target)
            return not isinstance(module, _LAYERS) or _is_depthwise(module)
        return node.op in ("call_function", "call_method") and node.target not in (
            torch.cat, "cat", *_CHUNKS, *_SPLITS, *_VIEWS, operator.getitem)

    def _asks(self, node: fx.Node, need: int) -> int:
        """The multiple this node asks of its inputs' widths, given what is asked of its own."""
        if node.op == "call_module":
            module = self.traced.get_submodule(node.target)
            if _is_depthwise(module):
                return need  # its output width is its input width
            if _is_grouped(module):
                return module.groups
            if isinstance(module, _LAYERS):
                return 1  # a dense layer takes any input width
            if isinstance(module, nn.GroupNorm):
                return math.lcm(need, module.num_groups)
            if isinstance(module, nn.LayerNorm):
                return math.lcm(need, self.norm_groups)
            return need
        if node.target in (torch.cat, "cat"):
            return 1
        if node.target in _CHUNKS:
            return need * (node.args[1] if len(node.args) > 1 else node.kwargs.get("chunks", 1))
        if node.target in _SPLITS:
            parts = _split_parts(node)
            return need * parts if parts else 1
        return math.lcm(need, _shuffle_groups(node))


def _dim1(node: fx.Node) -> int | None:
    shape = _shape(node)
    return shape[1] if shape and len(shape) > 1 else None


def _split_args(node: fx.Node) -> tuple[object, int]:
    sizes = node.args[1] if len(node.args) > 1 else node.kwargs.get("split_size_or_sections",
                                                                    node.kwargs.get("split_size"))
    return sizes, node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)


def _split_parts(node: fx.Node) -> int:
    """How many equal channel parts `x.split(size, dim=1)` makes (0: not such a split)."""
    sizes, dim = _split_args(node)
    width = _dim1(node.args[0]) if isinstance(node.args[0], fx.Node) else None
    if isinstance(sizes, int) and dim == 1 and width and width % sizes == 0:
        return width // sizes
    return 0


def _shuffle_groups(node: fx.Node) -> int:
    """Channel shuffle's view(N, groups, C / groups, H, W) asks for a multiple of groups."""
    shape, source = _shape(node), next(iter(_tensor_args(node)), None)
    if node.target in _VIEWS and shape and source is not None and _shape(source):
        old = _shape(source)
        if len(shape) == len(old) + 1 and len(old) > 1 and shape[1] * shape[2] == old[1]:
            return shape[1]
    return 1


def _is_grouped(module: nn.Module) -> bool:
    return isinstance(module, nn.Conv2d) and module.groups > 1 and not _is_depthwise(module)


def _is_depthwise(module: nn.Module) -> bool:
    return isinstance(module, nn.Conv2d) and module.groups > 1 and module.groups == module.in_channels


class WidthRewriter:
    """Runs the traced graph on the new-width input, rebuilding layers as their widths arrive."""

    def __init__(self, traced: fx.GraphModule, input_factor: int, inner_width: Callable[[int, int], int],
                 output_factor: int, norm_factory: Callable | None = None, norm_groups: int = 1) -> None:
        self.traced, self.input_factor, self.inner_width = traced, input_factor, inner_width
        self.output_factor, self.norm_factory = output_factor, norm_factory
        self.need = _Divisors(traced, norm_groups).run()
        self.output_layer = _output_layer(traced)
        self.values: dict[fx.Node, object] = {}
        self.layers: list[FoldedLayer] = []
        self.widened: dict[str, dict[int, int]] = {}  # parameter -> {old size: new size}

    def run(self, example: torch.Tensor) -> None:
        for node in self.traced.graph.nodes:
            if node.op == "output":
                break
            try:
                self.values[node] = self._execute(node, example)
            except ValueError:
                raise
            except Exception as error:  # the node's own failure, in one line
                if node.target in _JOINS:
                    widths = sorted({v.shape[1] for a in _tensor_args(node)
                                     if isinstance(v := self.values.get(a), torch.Tensor) and v.ndim > 1})
                    raise ValueError(f"cannot rewrite the widths at node {node.name!r}: it joins tensors now "
                                     f"{' and '.join(map(str, widths))} channels wide (their branches' widths were "
                                     f"rounded differently)") from None
                raise ValueError(f"cannot rewrite the widths at node {node.name!r} ({_what(self.traced, node)}): "
                                 f"{type(error).__name__}: {first_line(error)}; a layer or reshape probably hard-codes a width") from None

    def _execute(self, node: fx.Node, example: torch.Tensor) -> object:
        if node.op == "placeholder":
            return example
        if node.op == "get_attr":
            return _fetch(self.traced, node.target)
        if node.target in _SPLITS:
            self._resize_split(node)
        elif node.target in (operator.getitem, operator.setitem):
            self._resize_slice(node)
        args, kwargs = fx.node.map_arg((node.args, node.kwargs), lambda n: self.values[n])
        if node.op == "call_module":
            return self._module(node, args[0])(*args, **kwargs)
        call = node.target if node.op == "call_function" else getattr(args[0], node.target)
        args = args if node.op == "call_function" else args[1:]
        try:
            return call(*args, **kwargs)
        except RuntimeError:
            if not self._widen_parameters(node):
                raise
            args, kwargs = fx.node.map_arg((node.args, node.kwargs), lambda n: self.values[n])
            return call(*(args if node.op == "call_function" else args[1:]), **kwargs)

    def _resize_split(self, node: fx.Node) -> None:
        """A split into fixed channel sizes (MixNet, CSP) keeps each part's share of the new width."""
        source, (sizes, dim) = node.args[0], _split_args(node)
        value = self.values.get(source)
        if not isinstance(value, torch.Tensor) or dim % value.ndim != 1:
            return
        new, parts = value.shape[1], _split_parts(node)
        if parts and new % parts == 0:
            scaled = new // parts
        elif isinstance(sizes, (list, tuple)) and sum(sizes) != new:
            scaled = [size * new // sum(sizes) for size in sizes]
            scaled[-1] += new - sum(scaled)
        else:
            return
        if len(node.args) > 1:
            node.args = (source, scaled, *node.args[2:])
        else:
            node.kwargs = {**node.kwargs, "split_size_or_sections": scaled}

    def _resize_slice(self, node: fx.Node) -> None:
        """x[:, a:b] of fixed channels (GhostNet, ReXNet) takes the same channels folded: inner_width(b)."""
        source, index = node.args[0], node.args[1]
        value = self.values.get(source)
        if not (isinstance(index, tuple) and len(index) > 1 and isinstance(index[1], slice)
                and isinstance(value, torch.Tensor) and value.ndim > 1 and _dim1(source) != value.shape[1]):
            return
        old, new = _dim1(source), value.shape[1]

        def bound(b: object) -> object:
            if not isinstance(b, int) or b in (0, old):
                return new if b == old else b
            return min(new, self.inner_width(b, 1))

        channels = index[1]
        index = (index[0], slice(bound(channels.start), bound(channels.stop), channels.step), *index[2:])
        node.args = (source, index, *node.args[2:])

    # --- layers with parameters -----------------------------------------------------------------

    def _module(self, node: fx.Node, x: torch.Tensor) -> nn.Module:
        module = self.traced.get_submodule(node.target)
        old = _shape(_tensor_args(node)[0])
        if isinstance(module, _LAYERS):
            return self._layer(node, module, x)
        if isinstance(module, _BatchNorm):
            return _widen_norm(module, x.shape[1], "num_features", ("running_mean", "running_var"))
        if isinstance(module, nn.GroupNorm):
            return self._group_norm(node, module, x.shape[1])
        if isinstance(module, nn.LayerNorm):
            return self._layer_norm(node, module, x, old)
        if not any(True for _ in module.parameters()):
            return module  # activations, pools, dropout: any width
        raise ValueError(f"cannot rewrite node {node.name!r} ({type(module).__name__}): it has parameters and is "
                         f"not a conv, linear or norm layer")

    def _layer(self, node: fx.Node, module: nn.Module, x: torch.Tensor) -> nn.Module:
        conv = isinstance(module, nn.Conv2d)
        new_in = x.shape[1] if conv else x.shape[-1]
        old_in, old_out = (module.in_channels, module.out_channels) if conv else (module.in_features,
                                                                                 module.out_features)
        groups = module.groups if conv else 1
        if conv and _is_depthwise(module):
            groups, new_out = new_in, old_out // old_in * new_in  # depthwise stays depthwise
        elif node is self.output_layer:
            new_out = old_out * self.output_factor
        else:
            new_out = self.inner_width(old_out, math.lcm(groups, self.need.get(node, 1)))
        if new_in % groups or new_out % groups:
            raise ValueError(f"cannot rewrite {node.name!r}: its {groups} groups do not divide its new widths "
                             f"({old_in}->{new_in} input, {old_out}->{new_out} output channels)")
        if conv:
            _resize(module, in_channels=new_in, out_channels=new_out, groups=groups)
        else:
            _resize(module, in_features=new_in, out_features=new_out)
        self.layers.append(FoldedLayer(str(node.target), "conv" if conv else "linear", (old_in, old_out),
                                       (new_in, new_out)))
        return module

    def _group_norm(self, node: fx.Node, module: nn.GroupNorm, width: int) -> nn.Module:
        if width % module.num_groups:
            raise ValueError(f"cannot rewrite {node.name!r}: {width} channels do not divide into its "
                             f"{module.num_groups} groups")
        return _widen_norm(module, width, "num_channels", ())

    def _layer_norm(self, node: fx.Node, module: nn.LayerNorm, x: torch.Tensor, old: tuple[int, ...]) -> nn.Module:
        if len(module.normalized_shape) != 1:
            raise ValueError(f"cannot rewrite {node.name!r}: LayerNorm over {tuple(module.normalized_shape)} "
                             f"mixes channels and positions; only a norm over channels can be widened")
        changed = [d for d, (a, b) in enumerate(zip(old, x.shape)) if a != b and d > 0]
        dim = changed[0] if changed else (1 if old[1] == module.normalized_shape[0] else len(old) - 1)
        width = x.shape[dim]
        if self.norm_factory is None:
            module.normalized_shape = (width,)
            return _widen_norm(module, width, None, ())
        replacement = self.norm_factory(module, width, dim)
        _replace(self.traced, str(node.target), replacement)
        return replacement

    # --- parameters used in the graph (layer scales) ---------------------------------------------

    def _widen_parameters(self, node: fx.Node) -> bool:
        """Widen the parameters behind one operand of `node` to the other operand's new width."""
        operands = [a for a in _tensor_args(node) if isinstance(self.values.get(a), torch.Tensor)]
        live = [a for a in operands if not _chain(a)]
        resized = {}
        for activation in live:
            old, new = _shape(activation), self.values[activation].shape
            resized |= {a: b for a, b in zip(old or (), new) if a != b}
        changed = False
        for operand in operands:
            chain = _chain(operand)
            for leaf in chain:
                if leaf.op == "get_attr" and leaf.target not in self.widened and resized:
                    _tile_parameter(self.traced, leaf.target, resized)
                    self.widened[leaf.target] = resized
                    changed = True
            for step in chain:
                self.values[step] = self._execute(step, None)
        return changed


def _chain(node: fx.Node) -> list[fx.Node]:
    """The nodes (in order) computing `node` from parameters alone, or [] if it depends on the input."""
    seen, order = set(), []

    def visit(n: fx.Node) -> bool:
        if n in seen:
            return True
        seen.add(n)
        if n.op == "placeholder":
            return False
        if not all(visit(a) for a in _tensor_args(n)):
            return False
        order.append(n)
        return True

    return order if visit(node) else []


def _tiled(value: torch.Tensor, resized: dict[int, int]) -> torch.Tensor:
    """Each dim of an old size gets the new size, its values repeated (fresh enough: retrain)."""
    new = value.detach()
    for dim, size in enumerate(value.shape):
        if size in resized:
            new = new.index_select(dim, torch.arange(resized[size], device=new.device) % size)
    return new.clone()


def _tile_parameter(traced: fx.GraphModule, target: str, resized: dict[int, int]) -> None:
    value = _fetch(traced, target)
    _assign(traced, target, _tiled(value, resized), isinstance(value, nn.Parameter))


def _assign(traced: fx.GraphModule, target: str, value: torch.Tensor, parameter: bool) -> None:
    parent, _, child = target.rpartition(".")
    owner = traced.get_submodule(parent) if parent else traced
    if parameter:
        setattr(owner, child, nn.Parameter(value, requires_grad=getattr(owner, child).requires_grad))
    else:
        setattr(owner, child, value)


def _fetch(traced: fx.GraphModule, target: str) -> torch.Tensor:
    parent, _, child = target.rpartition(".")
    return getattr(traced.get_submodule(parent) if parent else traced, child)


def _resize(module: nn.Module, **sizes: int) -> None:
    """Give a conv or linear layer new widths and fresh parameters, keeping its class."""
    for key, value in sizes.items():
        setattr(module, key, value)
    device = module.weight.device
    if isinstance(module, nn.Conv2d):
        shape = (module.out_channels, module.in_channels // module.groups, *module.kernel_size)
        out = module.out_channels
    else:
        shape, out = (module.out_features, module.in_features), module.out_features
    module.weight = nn.Parameter(torch.empty(shape, device=device))
    if module.bias is not None:
        module.bias = nn.Parameter(torch.empty(out, device=device))
    module.reset_parameters()


def _widen_norm(module: nn.Module, width: int, attribute: str | None, buffers: tuple[str, ...]) -> nn.Module:
    """Fresh statistics and affine parameters of the new width, keeping the module's class."""
    if attribute:
        setattr(module, attribute, width)
    for name in ("weight", "bias"):
        old = getattr(module, name, None)
        if isinstance(old, nn.Parameter):
            setattr(module, name, nn.Parameter(torch.empty(width, device=old.device)))
    for name in buffers:
        if getattr(module, name, None) is not None:
            module.register_buffer(name, torch.empty(width, device=getattr(module, name).device))
    module.reset_parameters()
    return module


def _output_layer(traced: fx.GraphModule) -> fx.Node | None:
    """The last conv or linear node: the one whose outputs are the logits."""
    last = None
    for node in traced.graph.nodes:
        if node.op == "call_module" and isinstance(traced.get_submodule(node.target), _LAYERS):
            last = node
    return last


def _replace(traced: fx.GraphModule, target: str, module: nn.Module) -> None:
    parent, _, child = target.rpartition(".")
    setattr(traced.get_submodule(parent) if parent else traced, child, module)


def _what(traced: fx.GraphModule, node: fx.Node) -> str:
    if node.op == "call_module":
        return type(traced.get_submodule(node.target)).__name__
    return getattr(node.target, "__name__", str(node.target))


def rewrite_widths(traced: fx.GraphModule, input_shape: tuple[int, ...], input_factor: int,
                   inner_width: Callable[[int, int], int], output_factor: int, *,
                   norm_factory: Callable | None = None, norm_groups: int = 1) -> WidthRewriter:
    """Rewrite `traced` in place for an input of input_factor times the channels.

    `inner_width(old_width, multiple)` gives an inner layer's new width, a multiple of `multiple`.
    The graph runs on the meta device (shapes only: fast, no memory); a model that was not on meta
    then gets real tensors again: fresh parameters for the rebuilt layers, its own values for others.
    """
    device = next((p.device for p in traced.parameters()), torch.device("cpu"))
    refuse_attention(traced)
    kept = {} if device.type == "meta" else _kept_tensors(traced)
    traced.to("meta")
    try:
        ShapeProp(traced).propagate(torch.zeros(1, *input_shape, device="meta"))
    except Exception as error:  # ShapeProp wraps the model's own error
        cause = error.__cause__ or error
        raise ValueError(f"the model does not run on one {'x'.join(map(str, input_shape))} input "
                         f"({type(cause).__name__}: {first_line(cause)}); pass its own input shape") from None
    rewriter = WidthRewriter(traced, input_factor, inner_width, output_factor, norm_factory, norm_groups)
    example = torch.zeros(1, input_shape[0] * input_factor, *input_shape[1:], device="meta")
    with torch.no_grad():
        rewriter.run(example)
    traced.recompile()
    if device.type != "meta":
        _materialize(traced, device, kept, rewriter.widened)
    return rewriter


_RESETTABLE = (_ConvNd, nn.Linear, _BatchNorm, nn.GroupNorm, nn.LayerNorm)


def _resettable(module: nn.Module) -> bool:
    return isinstance(module, _RESETTABLE) or type(module).__name__ == "GroupedLayerNorm"


def _kept_tensors(traced: fx.GraphModule) -> dict[str, tuple[torch.Tensor, bool]]:
    """Parameters and buffers that no rebuilt layer resets (layer scales, custom buffers)."""
    kept = {}
    for prefix, module in traced.named_modules():
        if _resettable(module):
            continue
        tensors = [(n, t, True) for n, t in module.named_parameters(recurse=False)] + [
            (n, t, False) for n, t in module.named_buffers(recurse=False)]
        for name, tensor, parameter in tensors:
            if tensor is not None:
                kept[f"{prefix}.{name}" if prefix else name] = (tensor.detach().clone(), parameter)
    return kept


def _materialize(traced: fx.GraphModule, device: torch.device, kept: dict, widened: dict) -> None:
    """Real tensors after a rewrite on meta: reset the layers, restore (and tile) the rest."""
    traced.to_empty(device=device)
    for module in traced.modules():
        if _resettable(module):
            module.reset_parameters()
    for name, (value, parameter) in kept.items():
        _assign(traced, name, _tiled(value, widened[name]) if name in widened else value, parameter)

