"""The front door: `analyze(model_or_name, ...)` resolves the model and the device, then counts.

This is the only module that joins model/device resolution with the cost engine (DESIGN layers).
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence

import torch

from intensity.cost.analyze import count_costs
from intensity.cost.result import CostReport
from intensity.cost.reuse import DEFAULT_ALPHA
from intensity.dtypes import DType, resolve_dtype
from intensity.hardware import HardwareSpec, get_spec
from intensity.models import DEFAULT_INPUT, resolve_model

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
    dtype: str | DType | torch.dtype = "fp32",
    device: str | HardwareSpec | None = None,
    fusion: str = "trivial",
    blocks: Sequence[str] = (),
    only: Sequence[str] = (),
    alpha: float = DEFAULT_ALPHA,
    peak_tflops: float | None = None,
    bandwidth_gbs: float | None = None,
    name: str | None = None,
    attention: str = "flash",
    image_list: bool | None = None,
    deploy: bool = True,
) -> CostReport:
    """Per-kernel flops, bytes, intensity and reuse of one inference pass of `model`.

    `model` is an nn.Module or a name (zoo, `torchvision:NAME`, `timm:NAME`, `module:callable`).
    A named model is built on `meta` (no weights allocated); if it cannot run on meta or fake
    tensors it is built again with real random weights and run on real tensors (`capture` and
    `notes` say so). `device` (a spec name, a .toml path, `cpu` or `measured`) adds op:byte and
    bound labels. `attention`: "flash" (one fused kernel, default) or "math" (scores through
    DRAM). `image_list`: feed a list of `batch` CxHxW images (None: only torchvision's
    detection models, which take that convention). `deploy`: timm models that reparameterize for
    inference (mobileone, repvgg, fastvit, ...) are counted in their deployed form; False counts
    the training graph.
    """
    check_batch(batch)
    data_type = resolve_dtype(dtype)
    spec = _device_spec(device, data_type.name, peak_tflops, bandwidth_gbs)
    module, label, default_shape = _resolve(model, name, deploy)
    shape = parse_input_shape(input_shape) if input_shape is not None else default_shape
    _check_size(batch, shape)
    return count_costs(module, shape, batch=batch, dtype=data_type.name, fusion=fusion,
                       blocks=blocks, only=only, alpha=alpha, label=label,
                       device=spec.summary(data_type.name) if spec else None,
                       attention=attention, image_list=image_list,
                       real_model=_real_build(model, deploy))


def _check_size(batch: int, shape: Sequence[int]) -> None:
    """A batch whose input alone has 2**62 elements or more cannot be indexed by torch (int64)."""
    elements = batch * math.prod(shape)
    if elements >= 2**62:
        raise ValueError(f"`batch` {batch} x input {'x'.join(map(str, shape))} is {elements:.3g} elements, "
                         f"more than a tensor can index (2**62); give a smaller `batch`")


def _device_spec(device, dtype, peak_tflops, bandwidth_gbs):  # noqa: ANN001, ANN202
    if device is None:
        if peak_tflops is not None or bandwidth_gbs is not None:
            raise ValueError("`peak_tflops`/`bandwidth_gbs` adjust a device: give `device` too")
        return None
    spec = get_spec(device, dtype, peak_tflops, bandwidth_gbs)
    spec.op_byte(dtype)  # fail now, before the capture, if the device lacks this dtype
    return spec


def _real_build(model: torch.nn.Module | str, deploy: bool = True):  # noqa: ANN202
    """For a named model: how to build it with real weights, should the meta capture fail."""
    if isinstance(model, str):
        return lambda: resolve_model(model, meta=False, deploy=deploy).module
    return None


def _resolve(model: torch.nn.Module | str, name: str | None,
             deploy: bool = True) -> tuple[torch.nn.Module, str, tuple]:
    if isinstance(model, torch.nn.Module):
        return model, name or type(model).__name__, DEFAULT_INPUT
    if not isinstance(model, str):
        raise ValueError(f"model must be an nn.Module or a model name, not {type(model).__name__}")
    resolved = resolve_model(model, meta=True, deploy=deploy)
    return resolved.module, name or resolved.name, resolved.input_shape
