"""Capture a model's forward pass as a trace of aten ops, with shapes, dataflow and module paths.

The pass runs on `meta` tensors: shapes propagate but nothing is computed, so batch 1024 costs
what batch 1 costs. Each dispatched op becomes an `OpRecord` carrying the module path it ran in
(from global forward hooks), the values it reads and writes (ids that follow tensors through
views, so fusion can tell what stays on chip) and each value's role (activation, parameter,
buffer). A model that cannot run on meta tensors falls back to fake tensors, then to real ones,
and the trace says which was used. Each attempt runs on its own copy of the module tree (weights
shared, not copied) with torch's log and warnings held back, so a failed attempt leaves nothing
behind that could break the next one.

Attention (`F.scaled_dot_product_attention`, which nn.MultiheadAttention also reaches while the
capture runs) is recorded as one op, as flash-attention runs it (`attention="flash"`), or as its
unfused math with the scores materialised (`attention="math"`).
"""
from __future__ import annotations

import contextlib
import copy
import itertools
import logging
import threading
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves, tree_map_only
from torch.utils.weak import WeakIdKeyDictionary

from intensity.cost.attention import AttentionMode, check_attention, sdpa_arguments
from intensity.cost.formulas import (
    ACTIVATION, ALLOC_OPS, BUFFER, PARAMETER, OpCall, OpCostError, TensorInfo, attention_flops,
    formula_for, is_view, op_name,
)
from intensity.cost.inputs import InputSpec
from intensity.cost.memory_guard import MemoryGuard
from intensity.errors import ModelRunError, TooLargeError, first_line

CAPTURE_MODES = ("meta", "fake", "real")
METADATA_OPS = frozenset({"prim::device", "prim::dtype", "prim::layout"})
AUTOCAST_MODE = "autocast"  # fake CUDA tensors under torch.autocast: the only way to see its casts


@dataclass(frozen=True)
class Scope:
    """One module call enclosing an op: its path in the model, class name and a unique call id."""

    path: str
    type_name: str
    call: int


@dataclass(frozen=True)
class Access:
    """One tensor read or written by an op."""

    value: int  # dataflow id: views share their base's id
    role: str
    elements: int
    shape: tuple[int, ...]
    is_float: bool = True
    itemsize: int = 4  # the real item size, used for non-float tensors (indices, masks)
    span: tuple = ()  # (storage offset, strides): tells two views of one value apart
    base: int = 0  # elements of the storage behind the view: partial reads add up to at most this

    def nbytes(self, float_bytes: int | None) -> int:
        """Bytes at the analysed float size; None: at the tensor's own (an autocast trace)."""
        return self.elements * (float_bytes if self.is_float and float_bytes else self.itemsize)


@dataclass(frozen=True)
class OpRecord:
    index: int
    op: str
    kind: str
    detail: str
    scopes: tuple[Scope, ...]  # outermost first; empty for ops run directly by the root
    reads: tuple[Access, ...]
    writes: tuple[Access, ...]
    flops: int
    traffic: int | None = None  # DRAM bytes declared by the op's formula (None: from reads/writes)

    @property
    def module(self) -> str:
        return self.scopes[-1].path if self.scopes else ""

    @property
    def params(self) -> int:
        return sum(a.elements for a in self.reads if a.role == PARAMETER)


@dataclass
class UncountedOp:
    op: str
    calls: int = 0
    modules: list[str] = field(default_factory=list)


@dataclass
class Trace:
    ops: list[OpRecord]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    uncounted: dict[str, UncountedOp]
    capture: str  # which of CAPTURE_MODES produced it
    opaque_reads: set[int] = field(default_factory=set)  # values read by uncounted ops
    notes: list[str] = field(default_factory=list)
    attention_calls: int = 0  # F.scaled_dot_product_attention calls seen, whichever model


# Ops whose meta result is fully determined by their operands' metadata. Answering these directly
# skips torch's Python reference kernels and decompositions, which are most of the capture time of
# small mobile CNNs; the op is still recorded like any other. Pointwise: same shape, strides, dtype.
_POINTWISE = frozenset({"relu", "relu6", "hardtanh", "gelu", "silu", "sigmoid", "tanh", "hardswish",
                        "hardsigmoid", "leaky_relu", "elu", "mish", "add", "sub", "mul", "div"})


_EVAL_BATCH_NORM = {"native_batch_norm": 5, "_native_batch_norm_legit_no_training": None}


def meta_fast_path(op: str, args: tuple, kwargs: dict) -> Any:
    """The result of `op` on meta tensors when it follows from metadata alone, else None."""
    if op in _EVAL_BATCH_NORM:
        return _eval_batch_norm_result(op, args)
    return _pointwise_result(op, args, kwargs)


def _like(tensor: torch.Tensor) -> torch.Tensor:
    return torch.empty_strided(tensor.shape, tensor.stride(), dtype=tensor.dtype, device="meta")


def _eval_batch_norm_result(op: str, args: tuple) -> tuple[torch.Tensor, ...] | None:
    """Inference batch norm: an output like the input and per-channel saved statistics."""
    x = args[0]
    training_index = _EVAL_BATCH_NORM[op]
    if x.device.type != "meta" or (training_index is not None and args[training_index]):
        return None
    stats = torch.empty(x.shape[1], dtype=x.dtype, device="meta")
    return _like(x), stats, torch.empty_like(stats)


def _pointwise_result(op: str, args: tuple, kwargs: dict) -> torch.Tensor | None:
    in_place = op.endswith("_")
    base = op[:-1] if in_place else op
    if base not in _POINTWISE or kwargs.get("out") is not None:
        return None
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    first = tensors[0] if tensors else None
    if first is None or first.device.type != "meta" or not first.is_floating_point():
        return None
    if any(t.shape != first.shape or t.stride() != first.stride() or t.dtype != first.dtype
           or t.device != first.device for t in tensors[1:]):
        return None  # broadcasting or type promotion between tensors: let torch decide
    if any(not isinstance(a, (torch.Tensor, int, float, bool, str, type(None))) for a in args):
        return None
    return first if in_place else _like(first)


def distinct_elements(tensor: torch.Tensor) -> int:
    """Elements a kernel really touches: a broadcast (stride-0) dimension is read once."""
    return math.prod(size for size, stride in zip(tensor.shape, tensor.stride()) if stride != 0)


class _ModuleScopes:
    """Keeps the stack of module calls currently running, via global forward hooks."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.paths: dict[int, str] = {}
        for path, module in model.named_modules(remove_duplicate=False):
            self.paths.setdefault(id(module), path)
        self.stack: list[tuple[int, Scope]] = []
        self._calls = itertools.count()

    def _enter(self, module: torch.nn.Module, _inputs: Any) -> None:
        path = self.paths.get(id(module), f"<external {type(module).__name__}>")
        if path == "":
            return  # the root module is the model itself: no scope
        self.stack.append((id(module), Scope(path, type(module).__name__, next(self._calls))))

    def _exit(self, module: torch.nn.Module, _inputs: Any, _output: Any) -> None:
        for position in range(len(self.stack) - 1, -1, -1):
            if self.stack[position][0] == id(module):
                del self.stack[position:]
                return

    def current(self) -> tuple[Scope, ...]:
        return tuple(scope for _, scope in self.stack)

    @contextmanager
    def active(self) -> Iterator[None]:
        handles = [register_module_forward_pre_hook(self._enter),
                   register_module_forward_hook(self._exit, always_call=True)]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()


class _Recorder(TorchDispatchMode):
    """Records every aten op that reaches the dispatcher while active."""

    def __init__(self, roles: WeakIdKeyDictionary, scopes: _ModuleScopes,
                 float_bytes: int | None = 4) -> None:
        super().__init__()
        self.roles = roles
        self.float_bytes = float_bytes  # what formulas see as a float tensor's item size (None: its own)
        self.scopes = scopes
        self.values: WeakIdKeyDictionary = WeakIdKeyDictionary()  # tensor -> value id
        self.value_roles: dict[int, str] = {}
        self.ops: list[OpRecord] = []
        self.uncounted: dict[str, UncountedOp] = {}
        self.opaque_reads: set[int] = set()
        self.muted = 0  # > 0 while an op recorded as one kernel (attention) runs its parts
        self._ids = itertools.count()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 (torch API)
        kwargs = kwargs or {}
        op = op_name(func)
        out = meta_fast_path(op, args, kwargs)
        if out is None:
            out = func(*args, **kwargs)
        if not self.muted:
            self.record(op, args, kwargs, out, func)
        return out

    # -- values ------------------------------------------------------------------------------
    def value_of(self, tensor: torch.Tensor) -> int:
        if tensor not in self.values:
            self.values[tensor] = self.new_value(self.roles.get(tensor, ACTIVATION))
        return self.values[tensor]

    def new_value(self, role: str = ACTIVATION) -> int:
        value = next(self._ids)
        self.value_roles[value] = role
        return value

    def access(self, tensor: torch.Tensor) -> Access:
        value = self.value_of(tensor)
        return Access(value, self.value_roles[value], distinct_elements(tensor), tuple(tensor.shape),
                      tensor.is_floating_point(), tensor.element_size(),
                      (tensor.storage_offset(), tensor.stride()), _storage_elements(tensor))

    def info(self, tensor: torch.Tensor) -> TensorInfo:
        role = self.value_roles[self.value_of(tensor)]
        is_float = tensor.is_floating_point()
        return TensorInfo(tuple(tensor.shape), distinct_elements(tensor), role, is_float,
                          self.float_bytes if is_float and self.float_bytes else tensor.element_size())

    # -- ops ---------------------------------------------------------------------------------
    def record(self, op: str, args: tuple, kwargs: dict, out: Any, func: Any = None) -> None:
        inputs = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        outputs = [t for t in tree_leaves(out) if isinstance(t, torch.Tensor)]
        if op in METADATA_OPS:
            return  # asks a tensor's device or dtype (CUDA autocast does, per op): no kernel
        if is_view(op):
            self._alias(inputs, outputs)
        elif op in ALLOC_OPS:
            for tensor in outputs:
                self.values[tensor] = self.new_value()
        elif (formula := formula_for(func if func is not None else op)) is None:
            self.opaque_reads.update(self.value_of(t) for t in inputs)
            self._uncounted(op, outputs)
        else:
            self._counted(op, formula, args, kwargs, inputs, outputs)

    def _alias(self, inputs: Sequence[torch.Tensor], outputs: Sequence[torch.Tensor]) -> None:
        for tensor in outputs:
            self.values[tensor] = self.value_of(inputs[0]) if inputs else self.new_value()

    def _uncounted(self, op: str, outputs: Sequence[torch.Tensor]) -> None:
        entry = self.uncounted.setdefault(op, UncountedOp(op))
        entry.calls += 1
        module = self.scopes.current()[-1].path if self.scopes.current() else "(model)"
        if module not in entry.modules:
            entry.modules.append(module)
        for tensor in outputs:
            self.values[tensor] = self.new_value()

    def _counted(self, op, formula, args, kwargs, inputs, outputs) -> None:  # noqa: ANN001
        call = OpCall(op, tree_map_only(torch.Tensor, self.info, args),
                      tree_map_only(torch.Tensor, self.info, kwargs),
                      tuple(self.info(t) for t in inputs), tuple(self.info(t) for t in outputs))
        cost = formula(call)
        reads = tuple(self.access(t) for i, t in enumerate(inputs) if i not in cost.unread)
        role = self._cast_role(op, inputs)
        for tensor in outputs:  # results are new values, in-place ones included
            self.values[tensor] = self.new_value(role)
        written = range(len(outputs)) if cost.written is None else cost.written
        writes = tuple(self.access(outputs[i]) for i in written if i < len(outputs))
        self.ops.append(OpRecord(len(self.ops), op, cost.kind, cost.detail, self.scopes.current(),
                                 reads, writes, cost.flops, cost.traffic))

    def _cast_role(self, op: str, inputs: Sequence[torch.Tensor]) -> str:
        """A weight cast to another dtype (autocast's fp16 copy of an fp32 weight) is still a
        weight: the op reading it reads weights, and its traffic does not grow with the batch."""
        if op != "_to_copy" or not inputs:
            return ACTIVATION
        role = self.value_roles[self.value_of(inputs[0])]
        return role if role in (PARAMETER, BUFFER) else ACTIVATION

    def fused_attention(self, func, args: tuple, kwargs: dict) -> torch.Tensor:  # noqa: ANN001
        """One flash-attention kernel: q, k, v (and a mask) read once, the output written once;
        flops 4 B H Lq Lk d (Q K^T and P V), half of it when causal. Its parts are not recorded."""
        q, k, v, mask, causal = sdpa_arguments(args, kwargs)
        self.muted += 1
        try:
            out = func(*args, **kwargs)
        finally:
            self.muted -= 1
        reads = tuple(self.access(t) for t in (q, k, v, mask) if isinstance(t, torch.Tensor))
        self.values[out] = self.new_value()
        flops = attention_flops(q.shape, k.shape, v.shape) // (2 if causal else 1)
        detail = f"flash {'causal ' if causal else ''}{_dims(q)} x {_dims(k)}"
        self.ops.append(OpRecord(len(self.ops), "scaled_dot_product_attention", "attention", detail,
                                 self.scopes.current(), reads, (self.access(out),), flops))
        return out


def _dims(tensor: torch.Tensor) -> str:
    return "x".join(str(d) for d in tensor.shape)


def _storage_elements(tensor: torch.Tensor) -> int:
    try:
        return tensor.untyped_storage().nbytes() // max(tensor.element_size(), 1)
    except (RuntimeError, NotImplementedError):  # tensor subclasses without a storage
        return 0


# --- the three ways to run the model ----------------------------------------------------------

def _float_dtype(model: torch.nn.Module) -> torch.dtype:
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        if tensor.is_floating_point() and tensor.device.type != "meta":
            return tensor.dtype
    return torch.float32


def _meta_like(tensor: torch.Tensor) -> torch.Tensor:
    dtype = torch.float32 if tensor.is_floating_point() else tensor.dtype
    return torch.empty(tensor.shape, dtype=dtype, device="meta")


def takes_image_list(model: torch.nn.Module) -> bool:
    """torchvision's detection models take a list of CxHxW images (they batch them themselves)."""
    return type(getattr(model, "transform", None)).__name__ == "GeneralizedRCNNTransform"


def _model_input(feeds: tuple[InputSpec, ...], image_list: bool, make) -> tuple[list, tuple]:  # noqa: ANN001
    """The tensors to feed and the forward arguments: one tensor per input (batch-first shapes), or
    for `image_list` one list of `batch` images. `make(shape, dtype)` makes one tensor."""
    if image_list:
        first = feeds[0]
        images = [make(first.shape[1:], first.dtype) for _ in range(first.shape[0])]
        return images, (images,)
    tensors = [make(feed.shape, feed.dtype) for feed in feeds]
    return tensors, tuple(tensors)


def _meta_input(shape: tuple[int, ...], dtype: torch.dtype | None) -> torch.Tensor:
    return torch.empty(shape, dtype=dtype or torch.float32, device="meta")


def _run_meta(model, feeds, roles, image_list):  # noqa: ANN001
    """Forward with meta copies of the parameters swapped in (the model itself is untouched)."""
    return _swapped_forward(model, feeds, roles, image_list, _meta_like, _meta_input)


def _swapped_forward(model, feeds, roles, image_list, copy_state, make_input):  # noqa: ANN001
    """(fed inputs, forward) with `copy_state` copies of the weights and buffers swapped in,
    their roles recorded, and inputs made by `make_input`."""
    params = {name: copy_state(p) for name, p in model.named_parameters()}
    buffers = {name: copy_state(b) for name, b in model.named_buffers()}
    for tensor in params.values():
        roles[tensor] = PARAMETER
    for tensor in buffers.values():
        roles[tensor] = BUFFER
    fed, args = _model_input(feeds, image_list, make_input)
    return fed, lambda: torch.func.functional_call(model, (params, buffers), args, strict=False)


def _run_autocast(model, feeds, roles, image_list):  # noqa: ANN001
    """Forward on fake CUDA tensors, fp32 weights and inputs as `torch.autocast` is fed: the
    recorder then sees the ops autocast dispatches (casts, fp32 norms) at their real dtypes.
    Runs inside a FakeTensorMode; no GPU is needed."""
    def fake_cuda(tensor: torch.Tensor) -> torch.Tensor:
        dtype = torch.float32 if tensor.is_floating_point() else tensor.dtype
        return torch.empty(tensor.shape, dtype=dtype, device="cuda")
    return _swapped_forward(model, feeds, roles, image_list, fake_cuda, _cuda_input)


def _cuda_input(shape: tuple[int, ...], dtype: torch.dtype | None) -> torch.Tensor:
    return torch.empty(shape, dtype=dtype or torch.float32, device="cuda")


@contextmanager
def _autocast(dtype: torch.dtype | None) -> Iterator[None]:
    """CUDA autocast switched on directly: `torch.autocast("cuda")` turns itself off (with a
    warning) on a machine without a GPU, but its dispatch rules need none on fake tensors."""
    if dtype is None:
        yield
        return
    was_enabled, was_dtype = torch.is_autocast_enabled("cuda"), torch.get_autocast_dtype("cuda")
    torch.set_autocast_enabled("cuda", True)
    torch.set_autocast_dtype("cuda", dtype)
    torch.autocast_increment_nesting()
    try:
        yield
    finally:
        if torch.autocast_decrement_nesting() == 0:
            torch.clear_autocast_cache()
        torch.set_autocast_enabled("cuda", was_enabled)
        torch.set_autocast_dtype("cuda", was_dtype)


def _mark_real_roles(model: torch.nn.Module, roles: WeakIdKeyDictionary) -> None:
    for tensor in model.parameters():
        roles[tensor] = PARAMETER
    for tensor in model.buffers():
        roles[tensor] = BUFFER


def _real_input(generator: torch.Generator, dtype: torch.dtype, device: torch.device):  # noqa: ANN202
    """Random floats for float inputs; zeros for integer ones (index 0 is valid for any embedding)."""
    def make(shape: tuple[int, ...], wanted: torch.dtype | None) -> torch.Tensor:
        if wanted is not None and not wanted.is_floating_point:
            return torch.zeros(shape, dtype=wanted, device=device)
        return torch.randn(shape, generator=generator, dtype=wanted or dtype).to(device)
    return make


def _device(model: torch.nn.Module) -> torch.device:
    """Where a real-tensor run happens: the model's weights' device (the CPU for a model without)."""
    return next(itertools.chain(model.parameters(), model.buffers()), torch.empty(0)).device


def _run_real(model, feeds, roles, image_list):  # noqa: ANN001
    _mark_real_roles(model, roles)
    make = _real_input(torch.Generator().manual_seed(0), _float_dtype(model), _device(model))
    fed, args = _model_input(feeds, image_list, make)
    return fed, lambda: model(*args)


def _input_bytes(feeds: tuple[InputSpec, ...], float_dtype: torch.dtype) -> int:
    """What the real-tensor run's inputs take (floats at the weights' dtype)."""
    return sum(math.prod(feed.shape) * (feed.dtype or float_dtype).itemsize for feed in feeds)


def _capture_once(model: torch.nn.Module, feeds: tuple[InputSpec, ...], mode: str, attention: str,
                  image_list: bool, float_bytes: int | None = 4,
                  autocast: torch.dtype | None = None) -> Trace:
    roles: WeakIdKeyDictionary = WeakIdKeyDictionary()
    scopes = _ModuleScopes(model)
    with contextlib.ExitStack() as stack:
        if mode in ("fake", AUTOCAST_MODE):
            from torch._subclasses.fake_tensor import FakeTensorMode

            stack.enter_context(FakeTensorMode(allow_non_fake_inputs=True))
        elif mode == "real" and _device(model).type == "cpu":  # memory grows with the batch: stop in time
            guard = stack.enter_context(MemoryGuard(_feeds_text(feeds)))
            guard.check_inputs(_input_bytes(feeds, _float_dtype(model)))
        run = {"meta": _run_meta, AUTOCAST_MODE: _run_autocast}.get(mode, _run_real)
        fed, forward = run(model, feeds, roles, image_list)
        recorder = _Recorder(roles, scopes, None if mode == AUTOCAST_MODE else float_bytes)
        inputs = tuple(recorder.value_of(t) for t in fed)
        attention_mode = AttentionMode(recorder, attention)
        with torch.no_grad(), scopes.active(), _autocast(autocast), recorder, attention_mode:
            output = forward()
        outputs = tuple(recorder.value_of(t) for t in tree_leaves(output) if isinstance(t, torch.Tensor))
    return Trace(recorder.ops, inputs, outputs, recorder.uncounted, mode, recorder.opaque_reads,
                 attention_calls=attention_mode.calls)


# --- isolation of attempts --------------------------------------------------------------------

def _isolated_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A new module tree sharing the original's parameters and buffers (no weight is copied), in
    eval mode: whatever an attempt caches on its modules (anchors, masks, fake or meta tensors)
    dies with the copy, and the user's model keeps its own mode and attributes."""
    shared = {id(t): t for t in itertools.chain(model.parameters(), model.buffers())}
    try:
        twin = copy.deepcopy(model, shared)
    except Exception:  # a module that refuses deepcopy (locks, handles): run the original
        return model
    return twin.eval()


@contextmanager
def _quiet() -> Iterator[list[warnings.WarningMessage]]:
    """Hold back torch's log records and warnings: a failed attempt must not print pages of log."""
    with _QUIET_LOCK:  # counted: threads (Dask workers) overlap, and the last one out restores logging
        if not _QUIET_DEPTH:
            _QUIET_SAVED[0] = logging.root.manager.disable
            logging.disable(logging.CRITICAL)
        _QUIET_DEPTH.append(1)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    finally:
        with _QUIET_LOCK:
            _QUIET_DEPTH.pop()
            if not _QUIET_DEPTH:
                logging.disable(_QUIET_SAVED[0])


_QUIET_LOCK, _QUIET_DEPTH, _QUIET_SAVED = threading.Lock(), [], [logging.NOTSET]


@contextmanager
def _eval_mode(model: torch.nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def on_meta(model: torch.nn.Module) -> bool:
    return any(t.is_meta for t in itertools.chain(model.parameters(), model.buffers()))


def _subject(model: torch.nn.Module, mode: str, real_model: Callable[[], torch.nn.Module] | None):
    """The module an attempt runs: real tensors need real weights, so a meta-built model is rebuilt."""
    if mode != "real" or not on_meta(model):
        return model
    if real_model is None:
        raise ValueError("its weights are on the meta device and no real build was given")
    return real_model()


def capture(model: torch.nn.Module, shape: tuple[int, ...] | Sequence[InputSpec],
            modes: Sequence[str] = CAPTURE_MODES, *, attention: str = "flash",
            real_model: Callable[[], torch.nn.Module] | None = None,
            image_list: bool | None = None, float_bytes: int = 4,
            autocast: torch.dtype | None = None) -> Trace:
    """Trace one inference forward pass of `model` on an input of `shape` (batch first), or on
    several inputs: a sequence of InputSpecs with batch-first shapes, fed as positional arguments
    (integer dtypes for token ids and masks; floats follow the weights).

    Tries each capture mode in turn (meta, then fake, then real tensors), each on a fresh copy of
    the module tree, and notes any fallback. `real_model` builds the model with real weights for
    the real-tensor attempt when `model` was built on meta. `image_list` feeds a list of `batch`
    CxHxW images instead of one tensor (None: detect torchvision's detection models).
    `float_bytes` is the analysed dtype's item size, as cost formulas see it. `autocast` (fp16
    or bf16) traces the pass as `torch.autocast("cuda", dtype)` runs it on fp32 weights, on fake
    CUDA tensors: every tensor at the dtype autocast gives it (fp32 norms and softmax, fp16
    convs and matmuls, the casts between them as kernels), `float_bytes` unused.
    Raises ModelRunError, with the last mode's error, when the model fails in all of them.
    """
    check_attention(attention)
    if autocast is not None:  # meta tensors have no autocast rules, real ones need a GPU; a model
        # that calls into CUDA itself (cuDNN's LSTM) is counted without autocast, with a note
        modes = (AUTOCAST_MODE, *modes)
    unknown = [m for m in modes if m not in (*CAPTURE_MODES, AUTOCAST_MODE)]
    if unknown or not modes:
        raise ValueError(f"unknown capture mode {unknown or modes}; modes are {CAPTURE_MODES}")
    image_list = takes_image_list(model) if image_list is None else image_list
    feeds = _feeds(shape)
    failures: list[str] = []
    last: BaseException | None = None
    for mode in modes:
        if mode == "real" and on_meta(model) and last is not None and _shape_error(last):
            break  # fake tensors hit a shape error: real weights (maybe GBs) would not help
        try:
            with _quiet() as caught:
                built = _subject(model, mode, real_model)
                subject = _isolated_copy(built)
                with _eval_mode(subject):
                    trace = _capture_once(subject, feeds, mode, attention, image_list, float_bytes,
                                          autocast)
        except (OpCostError, TooLargeError):  # a cost formula's fault, or memory: other tensors would not help
            raise
        except Exception as error:  # any model error: try the next mode, report all
            last = error
            failures.append(f"{mode} tensors: {type(error).__name__}: {first_line(error)}")
            continue
        trace.notes.extend(_fallback_notes(failures, mode, built is not model))
        if autocast is not None and mode != AUTOCAST_MODE:
            trace.notes.append(f"not counted as autocast runs it (every float tensor at {float_bytes} bytes): "
                               f"the model would not run on fake CUDA tensors")
        trace.notes.extend(_warning_notes(caught))
        return trace
    raise ModelRunError(f"the model raised on {_feeds_text(feeds)} "
                        f"({failures[-1]}); check `input_shape` (channels x height x width, or one "
                        f"per model input such as 1x128:int64) and `batch`")


def _feeds(shape: tuple[int, ...] | Sequence[InputSpec]) -> tuple[InputSpec, ...]:
    """One float input from a plain batch-first shape; InputSpecs as they are."""
    if all(isinstance(item, InputSpec) for item in shape) and shape:
        return tuple(shape)
    return (InputSpec(tuple(int(d) for d in shape)),)


def _feeds_text(feeds: tuple[InputSpec, ...]) -> str:
    if len(feeds) == 1 and feeds[0].dtype is None:
        return f"an input of shape {feeds[0].shape}"
    return "inputs of shapes " + ", ".join(
        f"{feed.shape}{'' if feed.dtype is None else ' ' + str(feed.dtype).removeprefix('torch.')}"
        for feed in feeds)


_SHAPE_ERRORS = (RuntimeError, ValueError, AssertionError, TypeError, IndexError)
_TENSOR_KIND_WORDS = ("data", "meta", "fake", "storage", "symbolic", "item", "nonzero")


def _shape_error(error: BaseException) -> bool:
    """An error real tensors would raise too (a shape check): its exact type is a plain one (the
    fake-tensor data-dependence errors are subclasses) and it does not speak of tensor kinds."""
    text = str(error).lower()
    return type(error) in _SHAPE_ERRORS and not any(word in text for word in _TENSOR_KIND_WORDS)


def _fallback_notes(failures: list[str], mode: str, rebuilt: bool) -> list[str]:
    notes = [f"could not run on {failure}; fell back to {mode} tensors" for failure in failures]
    if rebuilt:
        notes.append("built the model with real (random) weights for the real-tensor run")
    return notes


def _warning_notes(caught: Sequence[warnings.WarningMessage], limit: int = 3) -> list[str]:
    messages = dict.fromkeys(f"{w.category.__name__}: {first_line(w.message)}" for w in caught)
    return [f"the model warned: {m}" for m in list(messages)[:limit]]

