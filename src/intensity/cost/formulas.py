"""Per-op cost formulas: pure functions of shapes (no tensors, no torch state).

Two layers, as in fvcore's jit handles: `conv_flops`, `matmul_flops`... are the shape formulas
that tests check against hand arithmetic; `OP_FORMULAS` maps ops to small adapters that read an
`OpCall` (shapes and roles of one dispatched op) and return an `OpCost`. It is keyed by the op
objects torch dispatches (`torch.ops.aten.relu`, an OpOverloadPacket, or one OpOverload), as
torch's flop_counter is, so a name that is not an op cannot hide in it; users add their own ops
through `intensity.register_op_cost` (cost/custom_ops.py).

Convention (DESIGN, vocabulary): `flops` count 2 per multiply-accumulate in conv/matmul-like ops,
the convention of the seeds, fvcore and torch's FlopCounterMode; bias additions are not counted
(seed 000 Eqn 3; seed 001 Eqn 21 adds K, negligible). Elementwise, norm, pooling and data-movement
ops are registered with 0 flops: they are known and their bytes count. An op with no formula is
reported as uncounted by the counter, never silently zero.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch._ops import OpOverload, OpOverloadPacket

# Roles of a tensor an op reads (set by the counter from provenance).
ACTIVATION = "activation"
PARAMETER = "parameter"  # an nn.Parameter (a learned weight)
BUFFER = "buffer"  # a registered buffer (e.g. batch-norm running statistics)
WEIGHT_ROLES = (PARAMETER, BUFFER)


@dataclass(frozen=True)
class TensorInfo:
    """What a formula may know about one tensor argument or result."""

    shape: tuple[int, ...]
    elements: int  # distinct elements touched (broadcast dims of expanded views counted once)
    role: str = ACTIVATION
    is_float: bool = True
    itemsize: int = 4  # bytes per element at the analysed dtype (floats) or the real one

    @property
    def is_weight(self) -> bool:
        return self.role in WEIGHT_ROLES

    @property
    def nbytes(self) -> int:
        """Bytes of the distinct elements, at the analysed dtype."""
        return self.elements * self.itemsize


@dataclass(frozen=True)
class OpCall:
    """One dispatched op: positional args with tensors replaced by TensorInfo."""

    op: str  # the op's name: "convolution" for aten ops, "mylib::myop" for others
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    inputs: tuple[TensorInfo, ...]  # every tensor read, flattened (cat's list included)
    outputs: tuple[TensorInfo, ...]


@dataclass(frozen=True)
class OpCost:
    flops: int
    kind: str  # conv, linear, matmul, attention, norm, act, add, mul, pool, reduce, ...
    detail: str = ""
    written: tuple[int, ...] | None = None  # indices of outputs written to DRAM (None: all)
    unread: tuple[int, ...] = field(default=())  # indices of inputs not read (e.g. copy_ dst)
    traffic: int | None = None  # DRAM bytes declared for the op (None: its compulsory traffic)


class OpCostError(ValueError):
    """A cost formula failed on an op the model ran (a user's formula, usually): not a model error,
    so the capture does not retry with other tensor kinds."""


Formula = Callable[[OpCall], OpCost]
OpKey = OpOverloadPacket | OpOverload


def op_name(op: OpKey) -> str:
    """'relu' for aten ops (the names fusion and reports use), 'mylib::myop' for any other."""
    packet = op.overloadpacket if isinstance(op, OpOverload) else op
    qualified = packet._qualified_op_name
    return packet.__name__ if qualified.startswith("aten::") else qualified


def resolve_op(op: object, parameter: str = "op") -> OpKey:
    """The op object behind `op`: an OpOverloadPacket or OpOverload as is, a torch.library
    custom op (its packet), or a name ('relu', 'aten::relu', 'mylib::myop', 'mylib::myop.default')."""
    if isinstance(op, (OpOverloadPacket, OpOverload)):
        return op
    custom = getattr(op, "_opoverload", None)  # torch.library.custom_op's CustomOpDef
    if isinstance(custom, OpOverload):
        return custom.overloadpacket
    if isinstance(op, str):
        return _op_named(op, parameter)
    raise TypeError(f"`{parameter}` must be an op: torch.ops.aten.relu, torch.ops.mylib.myop, a "
                    f"torch.library.custom_op function or a name like 'mylib::myop'; got "
                    f"{type(op).__name__} {op!r}" + _python_function_hint(op))


def _python_function_hint(op: object) -> str:
    name = getattr(op, "__name__", None)
    if callable(op) and name:
        return f" (a Python function; its aten op is torch.ops.aten.{name})"
    return ""


def _op_named(text: str, parameter: str) -> OpKey:
    namespace, _, rest = text.rpartition("::")
    name, _, overload = rest.partition(".")
    try:
        packet = getattr(getattr(torch.ops, namespace or "aten"), name)
        return getattr(packet, overload) if overload else packet
    except (AttributeError, RuntimeError):
        raise ValueError(f"`{parameter}` {text!r} is not an op in the installed torch (no "
                         f"torch.ops.{namespace or 'aten'}.{rest}); define it first "
                         f"(torch.library.custom_op) or check the name") from None


class OpFormulas:
    """Op objects -> formulas. A duplicate is an error (results would depend on import order)
    unless replaced on purpose; an OpOverload's own formula wins over its packet's."""

    def __init__(self) -> None:
        self._items: dict[OpKey, Formula] = {}
        self.missing: list[str] = []  # built-in names the installed torch does not have

    def add(self, op: object, formula: Formula, *, replace: bool = False) -> OpKey:
        key = resolve_op(op)
        if key in self._items and not replace:
            raise ValueError(f"op {_label(key)} already has a cost formula; pass replace=True to "
                             f"replace it")
        self._items[key] = formula
        return key

    def remove(self, op: object) -> None:
        key = resolve_op(op)
        if key not in self._items:
            raise KeyError(f"op {_label(key)} has no registered cost formula")
        del self._items[key]

    def register(self, *names: str) -> Callable[[Formula], Formula]:
        """Decorator for built-in formulas, by aten op name."""

        def decorate(formula: Formula) -> Formula:
            for name in names:
                self.add_builtin(name, formula)
            return formula

        return decorate

    def add_builtin(self, name: str, formula: Formula) -> None:
        """A built-in aten op; one this torch lacks is noted in `missing` (a test keeps it empty)."""
        try:
            self.add(name, formula)
        except ValueError as error:
            if "is not an op" not in str(error):
                raise
            self.missing.append(name)

    def get(self, op: OpKey) -> Formula | None:
        found = self._items.get(op)
        if found is None and isinstance(op, OpOverload):
            found = self._items.get(op.overloadpacket)
        return found

    def __contains__(self, op: object) -> bool:
        try:
            return self.get(resolve_op(op)) is not None
        except (TypeError, ValueError):
            return False

    def __iter__(self):  # noqa: ANN204
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return sorted(_label(key) for key in self._items)


def _label(op: OpKey) -> str:
    return op._name if isinstance(op, OpOverload) else op._qualified_op_name


OP_FORMULAS = OpFormulas()

# Ops that alias their input (views and restrides): no kernel, no bytes, as they move no data.
# The counter propagates provenance. In-place forms (as_strided_ after a permute, t_, squeeze_)
# count the same: see `is_view`.
VIEW_OPS = frozenset({
    "view", "_unsafe_view", "reshape", "_reshape_alias", "t", "transpose", "permute", "expand",
    "squeeze", "unsqueeze", "alias", "detach", "slice", "select", "split", "split_with_sizes",
    "unbind", "chunk", "narrow", "as_strided", "diagonal", "view_as", "expand_as", "unflatten",
    "flatten", "movedim", "moveaxis", "swapaxes", "swapdims", "lift_fresh", "_local_scalar_dense",
    "unfold", "numpy_T", "mT", "mH", "adjoint", "view_as_real", "view_as_complex", "_neg_view",
    "_conj", "conj", "resolve_conj", "resolve_neg", "real", "imag", "positive", "tensor_split",
    "hsplit", "vsplit", "unsafe_split", "unsafe_chunk", "_nested_view_from_buffer", "indices",
    "values", "_indices", "_values", "set_", "sym_size", "sym_stride", "sym_numel",
    "sym_storage_offset", "is_same_size", "is_nonzero",
})
# Ops that only allocate (their contents are written by the op that consumes them, if at all).
ALLOC_OPS = frozenset({"empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided",
                       "resize_", "resize_as_"})


def is_view(op: str) -> bool:
    """An aliasing op, in-place forms included (`as_strided_`, `transpose_`)."""
    return op in VIEW_OPS or (op.endswith("_") and op[:-1] in VIEW_OPS)


# --- shape formulas ---------------------------------------------------------------------------

def conv_flops(
    x_shape: Sequence[int], w_shape: Sequence[int], out_shape: Sequence[int], transposed: bool = False
) -> int:
    """2 x MACs of a (grouped, strided, dilated, transposed) convolution of any dimension.

    Weight is (C_out, C_in / groups, *kernel) so each output element costs C_in/groups * prod(kernel)
    MACs (seed 001 Eqn 22: n = 2 NHWK TRS). A transposed conv's weight is (C_in, C_out / groups,
    *kernel) and every *input* element is scattered through it, so the spatial term is the input's.
    """
    batch = x_shape[0]
    spatial = math.prod((x_shape if transposed else out_shape)[2:])
    return 2 * batch * spatial * math.prod(w_shape)


def matmul_flops(batch: int, m: int, k: int, n: int) -> int:
    """2 x MACs of `batch` products of (m, k) @ (k, n)."""
    return 2 * batch * m * k * n


def attention_flops(q_shape: Sequence[int], k_shape: Sequence[int], v_shape: Sequence[int]) -> int:
    """Q K^T and P V of scaled-dot-product attention, shapes (..., L, E), (..., S, E), (..., S, Ev):
    4 B H L S E when Ev = E (the flash-attention count; softmax and scaling are not MACs)."""
    batch = math.prod(q_shape[:-2])
    length, embed = q_shape[-2:]
    source, value_embed = k_shape[-2], v_shape[-1]
    return matmul_flops(batch, length, embed, source) + matmul_flops(batch, length, source, value_embed)


def conv_detail(x_shape: Sequence[int], w_shape: Sequence[int], groups: int, transposed: bool,
                stride: Sequence[int], dilation: Sequence[int]) -> str:
    """Human label for the conv variants of seed 001 4.1.1: depthwise, grouped, pointwise..."""
    kernel = "x".join(str(k) for k in w_shape[2:]) or "1"
    in_channels = x_shape[1]
    if transposed:
        kind = "transposed"
    elif groups > 1 and groups == in_channels:
        kind = "depthwise"
    elif groups > 1:
        kind = f"grouped g={groups}"
    elif all(k == 1 for k in w_shape[2:]):
        kind = "pointwise"
    else:
        kind = "standard"
    extras = []
    if any(s != 1 for s in stride):
        extras.append(f"s{stride[0]}")
    if any(d != 1 for d in dilation):
        extras.append(f"d{dilation[0]}")
    return " ".join([kind, kernel, *extras])


# --- adapters: aten op -> cost ----------------------------------------------------------------

def _shape(value: Any) -> tuple[int, ...]:
    return value.shape if isinstance(value, TensorInfo) else ()


@OP_FORMULAS.register("convolution", "_convolution")
def _convolution(call: OpCall) -> OpCost:
    # aten.convolution(input, weight, bias, stride, padding, dilation, transposed, out_pad, groups)
    x, w, stride, _, dilation, transposed, _, groups = call.args[:2] + call.args[3:9]
    out = call.outputs[0]
    flops = conv_flops(x.shape, w.shape, out.shape, transposed)
    return OpCost(flops, "conv", conv_detail(x.shape, w.shape, groups, transposed, stride, dilation))


def _matmul_kind(a: TensorInfo, b: TensorInfo) -> str:
    return "linear" if a.is_weight or b.is_weight else "matmul"


def _product(a: TensorInfo, b: TensorInfo, suffix: str = "") -> OpCost:
    """(m, k) @ (k, n), or batched (B, m, k) @ (B, k, n)."""
    batch = a.shape[0] if len(a.shape) == 3 else 1
    m, k = a.shape[-2:]
    n = b.shape[-1]
    label = f"{m}x{k} @ {k}x{n}" if batch == 1 else f"{batch}x({m}x{k} @ {k}x{n})"
    return OpCost(matmul_flops(batch, m, k, n), _matmul_kind(a, b), label + suffix)


@OP_FORMULAS.register("mm", "bmm")
def _mm(call: OpCall) -> OpCost:
    return _product(call.args[0], call.args[1])


@OP_FORMULAS.register("addmm", "baddbmm")
def _addmm(call: OpCall) -> OpCost:
    return _product(call.args[1], call.args[2], " + bias")


@OP_FORMULAS.register("_scaled_dot_product_flash_attention_for_cpu",
                      "_scaled_dot_product_flash_attention",
                      "_scaled_dot_product_efficient_attention",
                      "_scaled_dot_product_cudnn_attention")
def _sdpa(call: OpCall) -> OpCost:
    q, k, v = call.args[0], call.args[1], call.args[2]
    return OpCost(attention_flops(q.shape, k.shape, v.shape), "attention", "sdpa", written=(0,))


def _memory_op(kind: str, written: tuple[int, ...] | None = None) -> Formula:
    """A formula for an op whose cost is its traffic alone (flops 0 by the MAC convention)."""

    def formula(call: OpCall) -> OpCost:
        return OpCost(0, kind, call.op, written=written)

    return formula


_MEMORY_OPS: dict[str, tuple[str, tuple[int, ...] | None, tuple[str, ...]]] = {
    # kind, outputs written, aten op names
    "act": (None, ("relu", "relu6", "hardtanh", "gelu", "silu", "sigmoid", "tanh", "hardswish",
                   "hardsigmoid", "leaky_relu", "elu", "selu", "celu", "mish", "softplus", "clamp",
                   "clamp_min", "clamp_max", "prelu", "_prelu_kernel", "threshold", "log_sigmoid",
                   "glu", "erf", "sign")),
    "add": (None, ("add", "sub", "rsub")),
    "mul": (None, ("mul", "div")),
    "elementwise": (None, ("neg", "exp", "log", "sqrt", "rsqrt", "abs", "reciprocal", "pow",
                           "floor", "ceil", "round", "where", "maximum", "minimum", "masked_fill",
                           "logical_not", "eq", "ne", "lt", "gt", "le", "ge", "fill", "zero",
                           "square", "addcmul", "addcdiv", "lerp", "bitwise_and", "bitwise_or",
                           "bitwise_xor", "bitwise_not", "logical_and", "logical_or", "log2",
                           "log10", "log1p", "expm1", "exp2", "sin", "cos", "tan", "atan", "atan2",
                           "trunc", "frac", "remainder", "fmod", "floor_divide", "isnan", "isinf",
                           "nan_to_num", "sgn")),
    "norm": ((0,), ("native_batch_norm", "_native_batch_norm_legit_no_training",
                    "_native_batch_norm_legit", "_batch_norm_with_update",
                    "_batch_norm_no_update", "cudnn_batch_norm", "native_layer_norm",
                    "native_group_norm",
                    "_fused_rms_norm", "instance_norm")),
    "pool": ((0,), ("max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices",
                    "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d",
                    "_adaptive_avg_pool2d", "_adaptive_avg_pool3d", "adaptive_avg_pool1d",
                    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d")),
    "reduce": ((0,), ("mean", "sum", "amax", "amin", "max", "min", "var", "std", "var_mean",
                      "std_mean", "norm", "linalg_vector_norm", "argmax", "argmin", "logsumexp",
                      "prod", "cumsum", "any", "all")),
    "softmax": (None, ("_softmax", "_safe_softmax", "_log_softmax", "softmax", "log_softmax")),
    "cat": (None, ("cat", "stack")),
    "upsample": (None, ("upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d",
                        "_upsample_nearest_exact2d", "upsample_bilinear2d",
                        "_upsample_bilinear2d_aa", "upsample_bicubic2d", "upsample_linear1d",
                        "upsample_trilinear3d", "grid_sampler_2d", "pixel_shuffle",
                        "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle")),
    "pad": (None, ("constant_pad_nd", "reflection_pad2d", "replication_pad2d", "roll", "flip",
                   "im2col", "col2im")),
    "copy": (None, ("clone", "contiguous", "_to_copy", "to", "_copy_from", "repeat",
                    "index_select", "gather", "index", "embedding", "zeros_like", "ones_like",
                    "full_like", "zeros", "ones", "full", "arange", "scalar_tensor", "tril",
                    "triu", "scatter", "index_put", "masked_select", "new_zeros", "new_ones",
                    "new_full", "linspace", "rand_like", "randn_like", "bernoulli",
                    "native_dropout", "dropout")),
}

KERNEL_KINDS = frozenset({"conv", "linear", "matmul", "attention", *_MEMORY_OPS})

for _kind, (_written, _names) in _MEMORY_OPS.items():
    _formula = _memory_op(_kind, _written)
    for _name in _names:
        OP_FORMULAS.add_builtin(_name, _formula)


@OP_FORMULAS.register("copy_")
def _copy_(call: OpCall) -> OpCost:
    """dst.copy_(src): reads src, writes dst; dst's old contents are not read."""
    return OpCost(0, "copy", "copy_", unread=(0,))


def formula_for(op: OpKey | str) -> Formula | None:
    """The formula of an op (an op object, or an aten name); aten's in-place variants (relu_,
    add_) share the out-of-place one. None for an op without one, or a name that is no op."""
    if isinstance(op, str):
        try:
            op = resolve_op(op)
        except ValueError:
            return None
    formula = OP_FORMULAS.get(op)
    name = op_name(op)
    if formula is None and "::" not in name and name.endswith("_") and not name.startswith("_"):
        formula = OP_FORMULAS.get(getattr(torch.ops.aten, name[:-1], None))
    return formula
