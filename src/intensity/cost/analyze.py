"""`count_costs`: every kernel's flops and DRAM bytes for one module, input, batch and dtype.

This layer knows nothing of names or devices: `intensity.api.analyze` resolves those and calls here.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from intensity.cost.attention import check_attention
from intensity.cost.counter import AUTOCAST_MODE, Trace, capture
from intensity.cost.inputs import InputSpec, parse_inputs
from intensity.cost.formulas import KERNEL_KINDS
from intensity.cost.fusion import Kernel, build_kernels, check_policy, group_ops
from intensity.cost.result import CostReport, Totals, Uncounted
from intensity.cost.reuse import DEFAULT_ALPHA, check_alpha
from intensity.dtypes import DType, resolve_dtype

AUTOCAST_DTYPES = ("fp16", "bf16")


def count_costs(module: torch.nn.Module, input_shape: Sequence[int] | Sequence[InputSpec], *, batch: int = 1,
                dtype: str = "fp32", fusion: str = "trivial", blocks: Sequence[str] = (),
                only: Sequence[str] = (), alpha: float = DEFAULT_ALPHA, label: str = "",
                device: dict | None = None, attention: str = "flash",
                real_model: Callable[[], torch.nn.Module] | None = None,
                image_list: bool | None = None, amp: bool = False) -> CostReport:
    """Per-kernel flops, bytes, intensity and reuse of one inference pass of `module`.

    `device` is a spec summary (op:byte and friends) to attach for `bound` labels, or None.
    `attention`: "flash" (default) counts scaled-dot-product attention as one kernel that reads
    q, k, v once and writes its output once; "math" as matmul, softmax, matmul with the scores
    going through DRAM. `real_model` builds `module` with real weights, for the real-tensor
    fallback of a model built on meta. `image_list` feeds `batch` CxHxW images as a list (None:
    torchvision detection models only). `input_shape` is one sample's shape, or InputSpecs (one
    per forward argument, each with a dtype) for a model with several or non-float inputs.
    `amp` counts the pass as `torch.autocast` runs it at `dtype` (fp16 or bf16) on fp32 weights:
    each tensor at the dtype autocast gives it, weight and activation casts as kernels.
    """
    data_type = resolve_dtype(dtype)
    autocast = autocast_dtype(data_type) if amp else None
    check_policy(fusion, blocks)
    check_alpha(alpha)
    check_attention(attention)
    feeds = parse_inputs(input_shape)
    trace = capture(module, [InputSpec(f.batched(batch), f.dtype) for f in feeds], attention=attention,
                    real_model=real_model, image_list=image_list, float_bytes=data_type.bytes,
                    autocast=autocast)
    amp = trace.capture == AUTOCAST_MODE  # False when the autocast pass failed (the notes say so)
    kernels = build_kernels(trace, group_ops(trace, fusion, blocks), None if amp else data_type.bytes)
    kernels = _keep_only(kernels, only)
    return CostReport(
        model=label or type(module).__name__, batch=batch, input_shape=list(feeds[0].shape),
        inputs=[f.text() for f in feeds], warnings=_only_warning(kernels, only),
        dtype=data_type.name, fusion=fusion, kernels=kernels,
        totals=_totals(kernels, module, alpha), uncounted=_uncounted(trace), device=device,
        only=list(only), blocks=list(blocks), capture=trace.capture,
        notes=trace.notes + _attention_note(trace, attention) + _uncounted_note(trace),
        attention=attention, amp=amp,
    )


def autocast_dtype(data_type: DType) -> torch.dtype:
    """The torch dtype autocast runs at, for an `amp` count: fp16 or bf16 only."""
    if data_type.name not in AUTOCAST_DTYPES:
        raise ValueError(f"`amp` (torch.autocast) runs in fp16 or bf16, not {data_type.name}: use "
                         f"--dtype fp16 or bf16 with it, or drop --amp to use {data_type.name} throughout")
    return data_type.torch_dtype


def _keep_only(kernels: list[Kernel], only: Sequence[str]) -> list[Kernel]:
    if not only:
        return kernels
    allowed = KERNEL_KINDS | {k.op for k in kernels}
    unknown = sorted(set(only) - allowed)
    if unknown:
        raise ValueError(f"`only`: unknown kernel kind {', '.join(unknown)}; kinds are "
                         f"{', '.join(sorted(allowed))}")
    return [k for k in kernels if k.op in set(only)]


def _only_warning(kernels: list[Kernel], only: Sequence[str]) -> list[str]:
    """`only` naming kinds this model has none of: say so (the totals are empty, not a zero)."""
    if not only or kernels:
        return []
    return [f"`only` {', '.join(only)} matches no kernel of this model: the totals are empty and "
            f"the intensity undefined; drop `only` or name kinds the model has"]


def _totals(kernels: list[Kernel], module: torch.nn.Module, alpha: float) -> Totals:
    return Totals(
        kernels=len(kernels), flops=sum(k.flops for k in kernels),
        params=sum(p.numel() for p in module.parameters()),
        input_bytes=sum(k.input_bytes for k in kernels),
        weight_bytes=sum(k.weight_bytes for k in kernels),
        output_bytes=sum(k.output_bytes for k in kernels),
        weight_elements=sum(k.weight_elements for k in kernels),
        activation_elements=sum(k.activation_elements for k in kernels), alpha=alpha,
    )


def _uncounted(trace: Trace) -> list[Uncounted]:
    return [Uncounted(u.op, u.calls, u.modules) for u in trace.uncounted.values()]


def _attention_note(trace: Trace, attention: str) -> list[str]:
    calls = trace.attention_calls
    if not calls:
        return []
    if attention == "flash":
        return [f"attention counted as flash-attention: {calls} fused kernels "
                f"(attention='math' materialises the scores)"]
    return [f"attention counted unfused (attention='math'): {calls} calls, scores through DRAM"]


def _uncounted_note(trace: Trace) -> list[str]:
    if not trace.uncounted:
        return []
    ops = ", ".join(f"{u.op} x{u.calls}" for u in trace.uncounted.values())
    return [f"ops without a cost formula (not in the totals): {ops}"]
