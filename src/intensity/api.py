"""The front door: `analyze(model_or_name, ...)` resolves the model and the device, then counts.

This is the only module that joins model/device resolution with the cost engine (DESIGN layers).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from intensity.cost.analyze import count_costs
from intensity.cost.custom_ops import op_cost, register_op_cost, unregister_op_cost  # noqa: F401 (API)
from intensity.cost.inputs import InputSpec, parse_inputs
from intensity.cost.result import CostReport
from intensity.cost.reuse import DEFAULT_ALPHA
from intensity.dtypes import DType, resolve_dtype
from intensity.errors import ParameterError, ParameterTypeError, TooLargeError
from intensity.hardware import HardwareSpec, get_spec
from intensity.hardware.spec import check_device
from intensity.models import DEFAULT_INPUT, resolve_model
from intensity.validate import check_bool, check_flag, check_int, check_names, check_number, check_text, device_warning

__all__ = ["InputSpec", "analyze", "check_batch", "parse_input_shape", "parse_inputs"]


def parse_input_shape(text: str | Sequence) -> tuple[int, ...]:
    """'3x224x224' -> (3, 224, 224): one image's shape, without the batch dimension.

    For what takes a single float input (measuring, folding, fusing): a one-item list (the CLI's
    repeatable --input) is that item; several inputs or an integer dtype are refused, naming
    `input_shape`. `parse_inputs` reads every input of a model with several.
    """
    feeds = parse_inputs(text)
    if len(feeds) > 1:
        raise ParameterError(f"`input_shape`: this takes one image input, not {len(feeds)} "
                             f"({', '.join(f.text() for f in feeds)}); a model with several inputs "
                             f"can be analysed (analyze, roofline) but not measured, folded or fused")
    if not feeds[0].is_float:
        raise ParameterError(f"`input_shape` {feeds[0].text()}: this feeds float images; give a shape "
                             f"without a dtype, e.g. 3x224x224")
    return feeds[0].shape


def check_batch(batch: int) -> int:
    return check_int(batch, "batch", example="64")


def analyze(
    model: torch.nn.Module | str,
    *,
    batch: int = 1,
    input_shape: str | Sequence | None = None,
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
    amp: bool = False,
) -> CostReport:
    """Per-kernel flops, bytes, intensity and reuse of one inference pass of `model`.

    `model` is an nn.Module or a name (zoo, `torchvision:NAME`, `timm:NAME`, `module:callable`).
    A named model is built on `meta` (no weights allocated); if it cannot run on meta or fake
    tensors it is built again with real random weights and run on real tensors (`capture` and
    `notes` say so). `device` (a spec name, a .toml path, `cpu` or `measured`) adds op:byte and
    bound labels. `attention`: "flash" (one fused kernel, default) or "math" (scores through
    DRAM). `image_list`: feed a list of `batch` CxHxW images (None: only torchvision's
    detection models, which take that convention). `input_shape`: one sample's shape without the
    batch ('3x224x224', (3, 224, 224)), or a list with one entry per forward argument, each with
    an optional dtype (['3x224x224', '1x128:int64']); the batch is prepended to each.
    Bad parameters raise ParameterError/ParameterTypeError (ValueError/TypeError) naming them;
    a batch that fits no accelerator is counted with a warning in `warnings`. `deploy`: timm models that
    reparameterize for inference (mobileone, repvgg, fastvit, ...) are counted in their deployed
    form; False counts the training graph. `amp`: count the pass as `torch.autocast` runs it at
    `dtype` (fp16 or bf16) on fp32 weights, each tensor at the dtype autocast gives it (fp32
    norms and softmax, the casts as kernels), traced on fake CUDA tensors (no GPU needed).
    """
    batch = check_batch(batch)  # 2.0 -> 2: a float batch reached torch.randn
    _check_options(model, name, device, alpha, image_list)
    blocks, only = check_names(blocks, "blocks"), check_names(only, "only", example="conv,linear")
    data_type = resolve_dtype(dtype)
    spec = _device_spec(device, data_type.name, peak_tflops, bandwidth_gbs)
    module, label, default_shape = _resolve(model, name, deploy)
    feeds = parse_inputs(input_shape) if input_shape is not None else (InputSpec(tuple(default_shape)),)
    _check_size(batch, feeds)
    report = count_costs(module, feeds, batch=batch, dtype=data_type.name, fusion=fusion,
                         blocks=blocks, only=only, alpha=alpha, label=label,
                         device=spec.summary(data_type.name) if spec else None,
                         attention=attention, image_list=image_list,
                         real_model=_real_build(model, deploy), amp=check_bool(amp, "amp"))
    report.warnings.extend(_fit_warnings(report, data_type.bytes))
    return report


def _check_options(model: object, name: object, device: object, alpha: object, image_list: object) -> None:
    """Types and ranges of analyze's plain parameters, before anything is built."""
    if not isinstance(model, (torch.nn.Module, str)):
        raise ParameterTypeError(f"`model` must be an nn.Module or a model name (see `intensity "
                                 f"list-models`), not {type(model).__name__} {model!r}")
    if isinstance(model, str):
        check_text(model, "model", example="'resnet18-cifar10' or 'torchvision:resnet50'")
    if name is not None:
        check_text(name, "name", example="'my-net'")
    if device is not None:
        check_device(device)
    check_number(alpha, "alpha", low=0, high=1, example="0.8 (seed 004)")
    check_flag(image_list, "image_list")


def _check_size(batch: int, feeds: Sequence[InputSpec]) -> None:
    """A batch whose input alone has 2**62 elements or more cannot be indexed by torch (int64)."""
    for feed in feeds:
        elements = batch * math.prod(feed.shape)
        if elements >= 2**62:
            raise TooLargeError(f"`batch` {batch} x input {feed.text()} is {elements:.3g} elements, "
                                f"more than a tensor can index (2**62); give a smaller `batch`")


def _fit_warnings(report: CostReport, dtype_bytes: int) -> list[str]:
    """The weights and the largest kernel's activations: a lower bound on the memory a run needs."""
    activations = max((k.input_bytes + k.output_bytes for k in report.kernels), default=0)
    estimate = report.totals.params * dtype_bytes + activations
    warning = device_warning(estimate, f"at batch {report.batch}, the weights and the largest "
                                       f"kernel's activations")
    return [warning] if warning else []


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
    resolved = resolve_model(model, meta=True, deploy=deploy)
    return resolved.module, name or resolved.name, resolved.input_shape
