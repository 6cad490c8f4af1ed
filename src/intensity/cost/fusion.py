"""Fusion policies: group the ops of a trace into kernels, then count each kernel's DRAM traffic.

A policy only decides which ops run together (`group_ops`); traffic follows from the dataflow
(`build_kernels`): a kernel reads every value it uses that another kernel produced (or that is a
weight or the model input) once, and writes every value it produces that is used outside it or
is a model output. Values passed between ops of one kernel stay on chip.

- `none`: every op is a kernel that reads all its inputs and writes all its outputs.
- `trivial` (default): bias, batch-norm, activation, residual add (and a scale by a weight) are
  fused into the conv/linear/matmul that produced their input, as inference engines do
  (seed 000 fn. 3, seed 001 4.2).
- `block`: every call of a module the user names is one kernel, so only its inputs, outputs and
  weights cross DRAM (seed 001 5, tensor machines); ops outside named blocks use `trivial`.
- `inductor`: `trivial`, then every chain of the other ops (pointwise ops and reductions: a norm
  built from elementwise ops, an SE gate and what follows it) one kernel, as torch.compile's
  Inductor generates them around library convs and GEMMs. Its traffic is at most `trivial`'s:
  the bound for compiled models (timm's EvoNorm and FRN models beat the `trivial` bound compiled).
  Without names, the blocks that have fused kernels (`DEFAULT_BLOCKS`: the zoo's ConvFirst and
  MBConv, and any module class named FFN) are the blocks.
"""
from __future__ import annotations

import fnmatch
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from intensity.cost.counter import Access, OpRecord, Scope, Trace
from intensity.cost.formulas import PARAMETER, WEIGHT_ROLES
from intensity.cost.metrics import TrafficMetrics
from intensity.registry import Registry

# Fusion policies by name: each is a function (trace, blocks) -> op groups, registered below; its
# docstring's first line is the CLI's help text. Adding a policy is one decorated function.
FUSION_POLICIES: Registry[Callable[..., list]] = Registry("fusion policy", hint="choose none, trivial, block or inductor")
ANCHOR_KINDS = frozenset({"conv", "linear", "matmul"})
EPILOGUE_KINDS = frozenset({"act", "add", "mul", "norm"})
DEFAULT_BLOCKS = ("ConvFirst", "MBConv", "FFN")  # module classes with a fused kernel (seed 001 5)


@dataclass
class Kernel(TrafficMetrics):
    """One unit of execution after fusion, with its work and its compulsory DRAM traffic."""

    name: str
    op: str
    detail: str
    fused: list[str]
    input_shape: list[int]
    weight_shape: list[int]
    output_shape: list[int]
    flops: int
    params: int
    input_elements: int
    weight_elements: int
    output_elements: int
    input_bytes: int
    weight_bytes: int
    output_bytes: int

    @property
    def activation_elements(self) -> int:
        return self.input_elements + self.output_elements


# --- policies ---------------------------------------------------------------------------------

@dataclass
class OpGroup:
    """Ops that run as one kernel. `tip` is the latest result of an anchored (conv/linear) group,
    the value an epilogue must consume to join it."""

    ops: list[OpRecord] = field(default_factory=list)
    block: Scope | None = None
    anchored: bool = False
    tip: int | None = None


def check_policy(policy: str, blocks: Sequence[str]) -> None:
    if policy not in FUSION_POLICIES:
        raise ValueError(f"unknown fusion policy {policy!r}; choose one of {', '.join(FUSION_POLICIES)}")
    if blocks and policy != "block":
        raise ValueError(f"`blocks` {', '.join(blocks)} only mean something with `fusion` block "
                         f"(now {policy}); set `fusion` to block or drop `blocks`")


def block_scope(scopes: Sequence[Scope], patterns: Sequence[str]) -> Scope | None:
    """The outermost enclosing module call whose class name or path matches a pattern."""
    for scope in scopes:
        if any(p == scope.type_name or fnmatch.fnmatchcase(scope.path, p) for p in patterns):
            return scope
    return None


def group_ops(trace: Trace, policy: str = "trivial", blocks: Sequence[str] = ()) -> list[OpGroup]:
    check_policy(policy, blocks)
    return FUSION_POLICIES[policy](trace, blocks)


@FUSION_POLICIES.register("none")
def _every_op(trace: Trace, blocks: Sequence[str]) -> list[OpGroup]:  # noqa: ARG001
    """every op is a kernel"""
    return [OpGroup([op]) for op in trace.ops]


@FUSION_POLICIES.register("trivial")
def _epilogues(trace: Trace, blocks: Sequence[str]) -> list[OpGroup]:  # noqa: ARG001
    """bias, batch-norm, activation and add fused into the producing conv/linear, the default"""
    return _fuse(trace.ops, lambda op: None)


@FUSION_POLICIES.register("block")
def _whole_blocks(trace: Trace, blocks: Sequence[str]) -> list[OpGroup]:
    """a whole block is one kernel: give module classes or path patterns with --block"""
    patterns = tuple(blocks) or DEFAULT_BLOCKS
    if not blocks and not any(block_scope(op.scopes, patterns) for op in trace.ops):
        raise ValueError(f"`fusion` block needs `blocks` here (no default block "
                         f"{', '.join(DEFAULT_BLOCKS)} in this model): a module class (e.g. "
                         f"Bottleneck) or a module path pattern (e.g. 'layer*.*')")
    if not any(block_scope(op.scopes, patterns) for op in trace.ops):
        classes = sorted({s.type_name for op in trace.ops for s in op.scopes})
        raise ValueError(f"no module matches `blocks` {', '.join(patterns)}; module classes in this "
                         f"model: {', '.join(classes) or '(none)'}")
    return _fuse(trace.ops, lambda op: block_scope(op.scopes, patterns))


@FUSION_POLICIES.register("inductor")
def _generated_chains(trace: Trace, blocks: Sequence[str]) -> list[OpGroup]:  # noqa: ARG001
    """convs/GEMMs with their epilogues, every chain of other ops one kernel (torch.compile)"""
    return _merge_chains(_fuse(trace.ops, lambda op: None))


def _merge_chains(groups: Sequence[OpGroup]) -> list[OpGroup]:
    """Inductor generates one kernel for a chain of pointwise ops and reductions (a norm made of
    many elementwise ops, an SE gate's multiply and what follows it), while convs and GEMMs stay
    library kernels. So a group that is not anchored joins the latest earlier unanchored group it
    reads from, when nothing it reads comes from a later group (that would be a cycle)."""
    merged: list[OpGroup] = []
    producer: dict[int, int] = {}  # value id -> index in `merged` of the group that wrote it
    for group in groups:
        target = None if _library(group) else _chain_target(group, merged, producer)
        if target is None:
            merged.append(group)
            target = len(merged) - 1
        else:
            merged[target].ops.extend(group.ops)
        for op in group.ops:
            producer.update((access.value, target) for access in op.writes)
    return merged


def _chain_target(group: OpGroup, merged: Sequence[OpGroup], producer: dict[int, int]) -> int | None:
    sources = {producer[a.value] for op in group.ops for a in op.reads if a.value in producer}
    if not sources:
        return None
    latest = max(sources)
    return None if _library(merged[latest]) or merged[latest].block is not None else latest


def _library(group: OpGroup) -> bool:
    """A library kernel Inductor calls rather than generates: a conv or GEMM, or attention (flash)."""
    return group.anchored or any(op.kind == "attention" for op in group.ops)


def _fuse(ops: Sequence[OpRecord], block_of: Callable[[OpRecord], Scope | None]) -> list[OpGroup]:
    groups: list[OpGroup] = []
    tips: dict[int, OpGroup] = {}  # value id -> anchored group that produced it
    blocks: dict[int, OpGroup] = {}  # module call id -> its block group
    reads: Counter[int] = Counter()  # how many ops have read each value so far
    for op in ops:
        block = block_of(op)
        if block is not None:
            group = blocks.get(block.call)
            if group is None:
                group = blocks[block.call] = OpGroup(block=block)
                groups.append(group)
        elif (group := _epilogue_target(op, tips, reads)) is None:
            group = OpGroup(anchored=op.kind in ANCHOR_KINDS)
            groups.append(group)
        group.ops.append(op)
        if group.anchored and op.writes:
            group.tip = op.writes[0].value
            tips[group.tip] = group
        reads.update(access.value for access in op.reads)
    return groups


def _epilogue_target(op: OpRecord, tips: dict[int, OpGroup], reads: Counter[int]) -> OpGroup | None:
    """The anchored group whose fresh, not yet consumed result this epilogue op takes, if any."""
    if not _is_epilogue(op):
        return None
    for access in op.reads:
        group = tips.get(access.value)
        if group and group.tip == access.value and reads[access.value] == 0 and _others_allow(op, access):
            return group
    return None


def _is_epilogue(op: OpRecord) -> bool:
    if op.kind == "norm":
        return "batch_norm" in op.op  # a per-channel affine map; layer/group norm need reductions
    return op.kind in EPILOGUE_KINDS


def _others_allow(op: OpRecord, chained: Access) -> bool:
    """A multiply/divide fuses only as a scale by weights or constants, not a gate (SE blocks)."""
    if op.kind != "mul":
        return True
    return all(a is chained or a.role in WEIGHT_ROLES or a.elements <= 1 for a in op.reads)


# --- traffic ----------------------------------------------------------------------------------

def build_kernels(trace: Trace, groups: Sequence[OpGroup], float_bytes: int | None) -> list[Kernel]:
    """The kernels of `groups`, floats at `float_bytes` each (None: each tensor's own dtype)."""
    consumers = _consumer_groups(groups)
    escaping = set(trace.outputs) | trace.opaque_reads
    return [_kernel(group, index, consumers, escaping, float_bytes)
            for index, group in enumerate(groups)]


def _consumer_groups(groups: Sequence[OpGroup]) -> dict[int, set[int]]:
    consumers: dict[int, set[int]] = defaultdict(set)
    for index, group in enumerate(groups):
        for op in group.ops:
            for access in op.reads:
                consumers[access.value].add(index)
    return consumers


def _merge(accesses: Sequence[Access]) -> list[Access]:
    """One access per value: a view read twice counts once, different views of one value (q, k
    and v sliced from one qkv result, the halves of a chunk) add up, to at most the whole value."""
    by_value: dict[int, dict[tuple, Access]] = defaultdict(dict)
    for access in accesses:
        by_value[access.value].setdefault((access.shape, access.span), access)
    merged = []
    for views in by_value.values():
        same = list(views.values())
        largest = max(same, key=lambda a: a.elements)
        whole = max(max(a.base for a in same), _full_size(same))
        total = min(sum(a.elements for a in same), max(largest.elements, whole))
        merged.append(Access(largest.value, largest.role, total, largest.shape, largest.is_float,
                             largest.itemsize, largest.span, largest.base))
    return merged


def _full_size(accesses: Sequence[Access]) -> int:
    return max(math.prod(a.shape) for a in accesses)


def _kernel(group: OpGroup, index: int, consumers: dict[int, set[int]], escaping: set[int],
            float_bytes: int | None) -> Kernel:
    ops = group.ops
    produced = {w.value for op in ops for w in op.writes}
    reads = _merge([a for op in ops for a in op.reads if a.value not in produced])
    writes = [w for op in ops for w in op.writes
              if len(ops) == 1 or w.value in escaping or consumers.get(w.value, set()) - {index}]
    weights = [a for a in reads if a.role in WEIGHT_ROLES]
    inputs = [a for a in reads if a.role not in WEIGHT_ROLES]
    anchor = next((op for op in ops if op.kind in ANCHOR_KINDS), ops[0])
    traffic = [sum(a.nbytes(float_bytes) for a in part) for part in (inputs, weights, writes)]
    if len(ops) == 1 and ops[0].traffic is not None:
        traffic = _declared(ops[0].traffic, traffic)
    return Kernel(
        name=group.block.path if group.block else (anchor.module or "(model)"),
        op=group.block.type_name if group.block else anchor.kind,
        detail=f"{len(ops)} ops" if group.block else anchor.detail,
        fused=[] if group.block else [_short(op.op) for op in ops if op is not anchor],
        input_shape=list(inputs[0].shape) if inputs else [],
        weight_shape=list(max(weights, key=lambda a: a.elements).shape) if weights else [],
        output_shape=list(writes[-1].shape) if writes else [],
        flops=sum(op.flops for op in ops),
        params=sum(a.elements for a in weights if a.role == PARAMETER),
        input_elements=sum(a.elements for a in inputs),
        weight_elements=sum(a.elements for a in weights),
        output_elements=sum(w.elements for w in writes),
        input_bytes=traffic[0], weight_bytes=traffic[1], output_bytes=traffic[2],
    )


def _declared(total: int, compulsory: list[int]) -> list[int]:
    """An op's declared DRAM bytes (a registered custom op cost), split over input, weight and
    output bytes in the proportions of its compulsory traffic (all input if it has none)."""
    moved = sum(compulsory)
    if not moved:
        return [total, 0, 0]
    weight, output = (total * part // moved for part in compulsory[1:])
    return [total - weight - output, weight, output]


def _short(op: str) -> str:
    return op.strip("_").removeprefix("native_").removesuffix("_legit_no_training")


