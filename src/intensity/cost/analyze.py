"""`analyze`: count every kernel's flops and DRAM bytes for a model, batch size and dtype."""
from __future__ import annotations

import re
from collections.abc import Sequence

import torch

from intensity.analysis.reuse import DEFAULT_ALPHA, check_alpha
from intensity.cost.counter import Trace, capture
from intensity.cost.formulas import KERNEL_KINDS
from intensity.cost.fusion import Kernel, build_kernels, check_policy, group_ops
from intensity.cost.report import CostReport, Totals, Uncounted
from intensity.dtypes import resolve_dtype
from intensity.hardware.spec import HardwareSpec, get_spec
from intensity.models import resolve_model

_SHAPE = re.compile(r"^\d+(x\d+)*$")


def parse_input_shape(text: str | Sequence[int]) -> tuple[int, ...]:
    """'3x224x224' -> (3, 224, 224): one image's shape, without the batch dimension."""
    if not isinstance(text, str):
        shape = tuple(int(d) for d in text)
    elif _SHAPE.match(text.strip().lower()):
        shape = tuple(int(d) for d in text.strip().lower().split("x"))
    else:
        raise ValueError(f"malformed input shape {text!r}: expected channels x height x width "
                         f"such as 3x224x224 (no batch dimension)")
    if not shape or any(d <= 0 for d in shape):
        raise ValueError(f"input shape {text!r} must have positive dimensions, e.g. 3x224x224")
    return shape


def check_batch(batch: int) -> int:
    if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 0:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    return batch


def analyze(
    model: torch.nn.Module | str,
    *,
    batch: int = 1,
    input_shape: str | Sequence[int] | None = None,
    dtype: str = "fp32",
    device: str | HardwareSpec | None = None,
    fusion: str = "trivial",
    blocks: Sequence[str] = (),
    only: Sequence[str] = (),
    alpha: float = DEFAULT_ALPHA,
    peak_tflops: float | None = None,
    bandwidth_gbs: float | None = None,
    name: str | None = None,
) -> CostReport:
    """Per-kernel flops, bytes, intensity and reuse of one inference pass of `model`.

    `model` is an nn.Module or a name (zoo, `torchvision:NAME`, `timm:NAME`, `module:callable`).
    `device` (a spec name, a .toml path, `cpu` or `measured`) adds op:byte and bound labels.
    """
    check_batch(batch)
    data_type = resolve_dtype(dtype)
    check_policy(fusion, blocks)
    check_alpha(alpha)
    spec = _device_spec(device, data_type.name, peak_tflops, bandwidth_gbs)
    module, label, default_shape = _resolve(model, name)
    shape = parse_input_shape(input_shape) if input_shape is not None else default_shape
    trace = capture(module, (batch, *shape))
    kernels = build_kernels(trace, group_ops(trace, fusion, blocks), data_type.bytes)
    kernels = _keep_only(kernels, only)
    return CostReport(
        model=label, batch=batch, input_shape=list(shape), dtype=data_type.name, fusion=fusion,
        kernels=kernels, totals=_totals(kernels, module, alpha), uncounted=_uncounted(trace),
        device=spec.summary(data_type.name) if spec else None, only=list(only),
        blocks=list(blocks), capture=trace.capture, notes=trace.notes + _uncounted_note(trace),
    )


def _device_spec(device, dtype, peak_tflops, bandwidth_gbs):  # noqa: ANN001, ANN202
    if device is None:
        if peak_tflops is not None or bandwidth_gbs is not None:
            raise ValueError("--peak-tflops/--bandwidth-gbs adjust a device: give --device too")
        return None
    spec = get_spec(device, dtype, peak_tflops, bandwidth_gbs)
    spec.op_byte(dtype)  # fail now, before the capture, if the device lacks this dtype
    return spec


def _resolve(model: torch.nn.Module | str, name: str | None) -> tuple[torch.nn.Module, str, tuple]:
    if isinstance(model, torch.nn.Module):
        return model, name or type(model).__name__, (3, 224, 224)
    if not isinstance(model, str):
        raise ValueError(f"model must be an nn.Module or a model name, not {type(model).__name__}")
    resolved = resolve_model(model, meta=True)
    return resolved.module, name or resolved.name, resolved.input_shape


def _keep_only(kernels: list[Kernel], only: Sequence[str]) -> list[Kernel]:
    if not only:
        return kernels
    allowed = KERNEL_KINDS | {k.op for k in kernels}
    unknown = sorted(set(only) - allowed)
    if unknown:
        raise ValueError(f"--only: unknown kernel kind {', '.join(unknown)}; kinds are "
                         f"{', '.join(sorted(allowed))}")
    return [k for k in kernels if k.op in set(only)]


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


def _uncounted_note(trace: Trace) -> list[str]:
    if not trace.uncounted:
        return []
    ops = ", ".join(f"{u.op} x{u.calls}" for u in trace.uncounted.values())
    return [f"ops without a cost formula (not in the totals): {ops}"]
