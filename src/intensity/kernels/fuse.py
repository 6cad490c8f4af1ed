"""`fuse(model)`: a copy of a model whose ConvFirst and MBConv blocks run as block-fusion kernels.

Supported blocks become `FusedConvFirst` / `FusedMBConv` (eval mode: batch norms folded into the
weights). On CUDA with Triton installed the ConvFirst block runs the Triton kernel; everywhere else,
and for shapes the Triton kernel does not take, the chunked PyTorch reference runs. A block whose
layers differ from the zoo's layout (another kernel size, a dilation, a stride inside a conv, an
unexpected layer) is left unchanged and listed with the reason, so outputs never silently change.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field

import torch
from torch import nn

from intensity.errors import ModelRunError
from intensity.kernels.reference import FFNWeights, SEWeights, convfirst_fused, fold, mbconv_fused
from intensity.models.layers import BlurPool, ConvFirst, MBConv, SqueezeExcite

log = logging.getLogger(__name__)


@dataclass
class FuseReport:
    """What `fuse` replaced (module path, class) and what it left unchanged (path, class, reason)."""

    replaced: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[tuple[str, str, str]] = field(default_factory=list)
    backend: str = "reference"


# --- shape checks: a reason string when a block cannot be fused, None when it can ------------------

def _conv_problem(conv: nn.Module, kernel: int, name: str) -> str | None:
    if not isinstance(conv, nn.Conv2d):
        return f"{name} is {type(conv).__name__}, not Conv2d"
    pad = kernel // 2
    if conv.kernel_size != (kernel, kernel) or conv.stride != (1, 1) or conv.dilation != (1, 1) \
            or conv.padding != (pad, pad) or conv.padding_mode != "zeros":
        return (f"{name} has kernel {conv.kernel_size}, stride {conv.stride}, dilation {conv.dilation}, "
                f"padding {conv.padding} ({conv.padding_mode}); the fused kernel takes {kernel}x{kernel}, "
                f"stride 1, dilation 1, padding {pad}")
    if kernel == 1 and conv.groups != 1:
        return f"{name} is a grouped 1x1 conv; the fused kernel takes ungrouped 1x1 convs"
    return None


def _types_problem(layers: nn.Module, expected: tuple[type, ...], name: str) -> str | None:
    found = tuple(type(m) for m in layers) if isinstance(layers, nn.Sequential) else (type(layers),)
    if found != expected:
        return (f"{name} is ({', '.join(t.__name__ for t in found)}), expected "
                f"({', '.join(t.__name__ for t in expected)})")
    return None


def _blur_problem(block: nn.Module, stride: int) -> str | None:
    want = BlurPool if stride == 2 else nn.Identity
    return None if isinstance(block.blur, want) else f"blur is {type(block.blur).__name__}"


def convfirst_problem(block: ConvFirst) -> str | None:
    stride = 2 if block.shortcut is not None else 1
    ffn_types = (nn.BatchNorm2d, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.BatchNorm2d)
    return (_conv_problem(block.conv, 3, "conv") or _types_problem(block.ffn, ffn_types, "ffn")
            or _conv_problem(block.ffn[1], 1, "ffn.1") or _conv_problem(block.ffn[4], 1, "ffn.4")
            or _blur_problem(block, stride))


def mbconv_problem(block: MBConv) -> str | None:
    return (_types_problem(block.expand, (nn.Conv2d, nn.BatchNorm2d, nn.SiLU), "expand")
            or _types_problem(block.bn, (nn.BatchNorm2d, nn.SiLU), "bn")
            or _types_problem(block.project, (nn.Conv2d, nn.BatchNorm2d), "project")
            or _types_problem(block.se, (SqueezeExcite,), "se")
            or _conv_problem(block.expand[0], 1, "expand.0") or _conv_problem(block.conv, 3, "conv")
            or _conv_problem(block.project[0], 1, "project.0")
            or _blur_problem(block, 2 if isinstance(block.blur, BlurPool) else 1))


# --- fused modules ----------------------------------------------------------------------------------

def _triton_ready(x: torch.Tensor) -> bool:
    if not x.is_cuda:
        return False
    from intensity.kernels import triton_kernels

    return triton_kernels.available()


class FusedConvFirst(nn.Module):
    """A ConvFirst block as one kernel: grouped conv, FFN (Eqn 32) and the shortcut, BN folded."""

    def __init__(self, block: ConvFirst) -> None:
        super().__init__()
        conv_w, conv_b = fold(block.conv, block.ffn[0])  # BN after BlurPool commutes: blur sums to 1
        self.register_buffer("conv_w", conv_w)
        self.register_buffer("conv_b", conv_b)
        self.ffn = FFNWeights.from_layers(block.ffn[1], block.ffn[2], block.ffn[4], block.ffn[5])
        self.stride = 2 if block.shortcut is not None else 1
        self.blur_kernel = block.shortcut.kernel.clone() if self.stride == 2 else None
        self.triton_reason: str | None = None  # why the Triton path fell back, once logged

    def _apply(self, fn, recurse=True):  # noqa: ANN001 (nn.Module's signature) move the folded weights too
        super()._apply(fn, recurse)
        for name in ("w1", "b1", "w2", "b2"):
            setattr(self.ffn, name, fn(getattr(self.ffn, name)))
        if self.blur_kernel is not None:
            self.blur_kernel = fn(self.blur_kernel)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _triton_ready(x):
            from intensity.kernels import triton_kernels

            reason = triton_kernels.convfirst_unsupported(x, self)
            if reason is None:
                return triton_kernels.convfirst(x, self)
            if self.triton_reason != reason:
                self.triton_reason = reason
                log.warning("ConvFirst on Triton falls back to the PyTorch reference: %s", reason)
        return convfirst_fused(x, self.conv_w, self.conv_b, self.ffn, stride=self.stride,
                               blur_kernel=self.blur_kernel)


class FusedMBConv(nn.Module):
    """An MBConv block with SE as one fused computation per micro-batch of images, BN folded."""

    def __init__(self, block: MBConv) -> None:
        super().__init__()
        self.expand_w, self.expand_b = fold(block.expand[0], block.expand[1])
        self.conv_w, self.conv_b = fold(block.conv, block.bn[0])  # BN after BlurPool commutes
        self.project_w, self.project_b = fold(block.project[0], block.project[1])
        se = block.se
        self.se = SEWeights(*(t.detach().clone().flatten(1) if t.dim() > 1 else t.detach().clone()
                              for t in (se.reduce.weight, se.reduce.bias, se.expand.weight, se.expand.bias)))
        self.stride = 2 if isinstance(block.blur, BlurPool) else 1
        self.blur_kernel = block.blur.kernel.clone() if self.stride == 2 else None
        self.residual = block.residual

    def _apply(self, fn, recurse=True):  # noqa: ANN001
        super()._apply(fn, recurse)
        for name in ("expand_w", "expand_b", "conv_w", "conv_b", "project_w", "project_b"):
            setattr(self, name, fn(getattr(self, name)))
        for name in ("w_reduce", "b_reduce", "w_expand", "b_expand"):
            setattr(self.se, name, fn(getattr(self.se, name)))
        if self.blur_kernel is not None:
            self.blur_kernel = fn(self.blur_kernel)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mbconv_fused(x, (self.expand_w, self.expand_b), (self.conv_w, self.conv_b), self.se,
                            (self.project_w, self.project_b), stride=self.stride, residual=self.residual,
                            blur_kernel=self.blur_kernel)


FUSERS = {ConvFirst: (convfirst_problem, FusedConvFirst), MBConv: (mbconv_problem, FusedMBConv)}


def fuse(model: nn.Module) -> tuple[nn.Module, FuseReport]:
    """An eval-mode copy of `model` with every supported block fused, and what was (not) replaced.

    The original is untouched. Outputs equal the original's in eval mode (batch-norm running
    statistics), up to float rounding.
    """
    fused, report = copy.deepcopy(model).eval(), FuseReport()
    from intensity.kernels import triton_kernels

    report.backend = "triton (CUDA inputs), reference elsewhere" if triton_kernels.available() else "reference"
    for path, module in list(fused.named_modules()):
        entry = FUSERS.get(type(module))
        if entry is None:
            continue
        problem, fused_class = entry
        reason = problem(module)
        if reason:
            report.unchanged.append((path or "(model)", type(module).__name__, reason))
            continue
        if not path:
            return fused_class(module), FuseReport([("(model)", type(module).__name__)], [], report.backend)
        _set_module(fused, path, fused_class(module))
        report.replaced.append((path, type(module).__name__))
    return fused, report


def _set_module(root: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, name = path.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, name, module)


@dataclass
class FuseCheck:
    """`fuse` applied to a model and both run on one random batch (eval mode, no grad)."""

    report: FuseReport
    max_abs_diff: float
    max_abs_output: float
    output_shape: tuple[int, ...]
    input_dependent: float = 0.0  # max |block(x) - block(0)| of the worst block: what it contributes
    relative_error: float = 0.0  # the worst fused block's error over its input-dependent part
    judged_at: str = "output"  # that block's path (each block is checked on its own random input)


def check_fuse(model: nn.Module, input_shape: tuple[int, ...], *, batch: int = 2, seed: int = 0,
               device: str = "cpu", dtype: torch.dtype = torch.float32) -> FuseCheck:
    """Fuse `model` with randomised weights and batch-norm statistics (a fresh init can make the
    output almost constant: zero-initialised norms leave only the classifier's bias, and then no
    wrong kernel would show), run original and fused on one random batch, and compare. The error
    is reported relative to the input-dependent part of the output."""
    if batch < 1:
        raise ValueError(f"`batch` must be at least 1, got {batch}")
    model = randomized(model, seed)
    fused, report = fuse(model)
    original = model.eval().to(device, dtype)
    fused = fused.to(device, dtype)
    x = torch.randn(batch, *input_shape, generator=torch.Generator().manual_seed(seed)).to(device, dtype)
    paths = [path for path, _ in report.replaced]
    shapes = _block_input_shapes(original, x, paths)
    expected, got = _run(original, x, "original").float(), _run(fused, x, "fused").float()
    worst, where, moving = 0.0, "output", 0.0
    for path in paths:  # each fused block against its original on a fresh random input of its shape
        error, scale = _block_error(original.get_submodule(path), fused.get_submodule(path), shapes[path], seed)
        if scale and error / scale >= worst:
            worst, where, moving = error / scale, path, scale
    diff = (expected - got).abs().max().item()
    return FuseCheck(report, diff, expected.abs().max().item(), tuple(expected.shape), moving, worst, where)


def _block_input_shapes(model: nn.Module, x: torch.Tensor, paths: list[str]) -> dict[str, tuple[int, ...]]:
    """The shape each block at `paths` receives when `model` runs on `x`."""
    shapes: dict[str, tuple[int, ...]] = {}

    def recorder(path: str):  # noqa: ANN202
        def record(module: nn.Module, inputs: tuple) -> None:  # returns None: the inputs stay as they are
            shapes.setdefault(path, tuple(inputs[0].shape))
        return record

    handles = [model.get_submodule(p).register_forward_pre_hook(recorder(p)) for p in paths]
    try:
        _run(model, x, "original")
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def _block_error(original: nn.Module, fused: nn.Module, shape: tuple[int, ...], seed: int) -> tuple[float, float]:
    """(max |original - fused|, max |original(x) - original(0)|) of one block on a random input: the
    error and the part of the block's output that depends on its input."""
    parameter = next(original.parameters())
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1)).to(parameter)
    with torch.no_grad():
        expected, got, constant = original(x).float(), fused(x).float(), original(torch.zeros_like(x)).float()
    return (expected - got).abs().max().item(), (expected - constant).abs().max().item()


def randomized(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of `model` whose norm scales, shifts and running statistics and whose biases are
    random (seeded), so every block changes the output."""
    import copy

    copied = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)

    def noise(tensor: torch.Tensor, scale: float) -> torch.Tensor:
        return torch.randn(tensor.shape, generator=generator).to(tensor) * scale

    with torch.no_grad():
        for module in copied.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                if module.weight is not None:
                    module.weight.copy_(1 + noise(module.weight, 0.3))
                    module.bias.copy_(noise(module.bias, 0.1))
                if module.running_mean is not None:
                    module.running_mean.copy_(noise(module.running_mean, 0.1))
                    module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
            elif isinstance(module, (nn.Conv2d, nn.Linear)) and module.bias is not None:
                module.bias.copy_(noise(module.bias, 0.1))
    return copied


def _run(model: nn.Module, x: torch.Tensor, which: str) -> torch.Tensor:
    """One no-grad forward pass; a model error (usually a too-small input) becomes a user error."""
    try:
        with torch.no_grad():
            return model(x)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelRunError(f"the {which} model raised on an input of shape {tuple(x.shape)} ({first}); "
                            f"check `input_shape` (channels x height x width) and `batch`") from error
