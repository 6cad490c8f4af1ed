"""Per-kernel time from a calibration (hardware/calibration.py), with the roofline as fallback.

Each kernel is classified by kind (conv 1x1, 3x3 (other k x k as 3x3), depthwise, grouped ->
per-group channels; linear/matmul; pool; every other op as elementwise memory traffic), its
achieved rate is interpolated over the calibration grid, and its time is flops / rate (memory
kinds: bytes / rate; pools: window reads / rate, as a CPU max pool costs per element of its
window). Outside the grid the kernel keeps its roofline time and is flagged.
A calibrated time never undercuts the kernel's roofline time (the roofline is the lower bound).

Eager epilogues: the calibration measures PyTorch's kernels as they run; in eager mode a conv's
batch-norm, activation and residual add are separate passes over its output even where the
`trivial` fusion policy counts them as fused. With `eager_epilogues` (the default) each fused
op adds one elementwise pass (read + write of the output) at the calibrated bandwidth.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from intensity.analysis.roofline import KernelBound, Waterline, kernel_latency, waterline
from intensity.cost.fusion import Kernel
from intensity.cost.metrics import bound as kernel_side
from intensity.hardware.calibration import Calibration
from intensity.hardware.spec import op_byte


@dataclass(frozen=True)
class KernelTime:
    """One kernel's calibrated and roofline time."""

    name: str
    op: str
    kind: str  # calibration kind it was looked up as
    channels: float
    size: float  # output pixels / rows (compute) or bytes (memory)
    roofline: float  # seconds: the lower bound (Eqn 11)
    calibrated: float  # seconds: the prediction (roofline when fallback)
    epilogue: float  # seconds of eager epilogue passes included in `calibrated`
    fallback: bool  # outside the calibration grid: the roofline time was used
    source: str  # "calibrated" or why the roofline was used


@dataclass(frozen=True)
class CalibratedTimes:
    kernels: list[KernelTime]
    line: Waterline  # the calibrated waterline: sum of calibrated kernel times
    roofline: Waterline  # the plain roofline: the upper bound on performance

    @property
    def fallbacks(self) -> list[KernelTime]:
        return [k for k in self.kernels if k.fallback]


def classify(kernel: Kernel) -> tuple[str, float, float]:
    """(calibration kind, channels, size) of a kernel."""
    if kernel.op == "conv" and len(kernel.weight_shape) == 4 and len(kernel.input_shape) == 4:
        out, per_group, kh, kw = kernel.weight_shape
        groups = max(1, kernel.input_shape[1] // max(per_group, 1))
        pixels = kernel.output_elements / out if out else 0
        if per_group == 1 and groups > 1:
            return "depthwise", out, pixels
        kind = "conv1x1" if kh * kw == 1 else "conv3x3"
        return kind, math.sqrt(per_group * out / groups), pixels
    if kernel.op in ("linear", "matmul") and kernel.output_shape and len(kernel.input_shape) >= 1:
        inner, outer = kernel.input_shape[-1], kernel.output_shape[-1]
        rows = kernel.output_elements / outer if outer else 0
        return "linear", math.sqrt(inner * outer), rows
    return ("pool" if kernel.op == "pool" else "elementwise"), 1, kernel.bytes


def kernel_time(kernel: Kernel, calibration: Calibration, peak_flops: float, bandwidth: float,
                eager_epilogues: bool = True) -> KernelTime:
    floor = kernel_latency(kernel.flops, kernel.bytes, peak_flops, bandwidth)
    kind, channels, size = classify(kernel)
    compute = kind not in ("pool", "elementwise")
    rate = calibration.rate(kind, channels, size)
    epilogue = _epilogue(kernel, calibration, bandwidth) if eager_epilogues else 0.0
    if rate is None:
        why = (f"outside the calibration grid ({kind}, channels {channels:.0f}, "
               f"{'size' if compute else 'bytes'} {size:.0f}): roofline time")
        return KernelTime(kernel.name, kernel.op, kind, channels, size, floor, floor + epilogue, epilogue,
                          True, why)
    work = kernel.flops if compute else pool_reads(kernel) if kind == "pool" else kernel.bytes
    own = max(work / rate, floor)
    return KernelTime(kernel.name, kernel.op, kind, channels, size, floor, own + epilogue, epilogue, False,
                      "calibrated")


def pool_window(size_in: int, size_out: int) -> int:
    """A pool's window side from its input and output sizes (padding 0 assumed): stride 1 gives
    k = in - out + 1; otherwise stride = in // out and k = stride + 1 when that fits (3x3 stride 2),
    else k = stride (2x2 stride 2)."""
    if size_out <= 0 or size_in <= size_out:
        return 1 if size_in <= size_out else size_in
    stride = size_in // size_out
    if stride == 1:
        return size_in - size_out + 1
    return stride + 1 if (size_in - stride - 1) // stride + 1 == size_out else stride


def pool_reads(kernel: Kernel) -> float:
    """Window elements a pool reads: output elements x k_h x k_w (global pools: every input once)."""
    if len(kernel.input_shape) != 4 or len(kernel.output_shape) != 4:
        return kernel.input_elements
    (h, w), (oh, ow) = kernel.input_shape[2:], kernel.output_shape[2:]
    return kernel.output_elements * pool_window(h, oh) * pool_window(w, ow)


def _epilogue(kernel: Kernel, calibration: Calibration, bandwidth: float) -> float:
    """Eager passes of the fused ops over the kernel's output (read + write each)."""
    passes = [op for op in kernel.fused if op != "bias"]
    if not passes or not kernel.output_bytes:
        return 0.0
    moved = 2 * kernel.output_bytes
    rate = calibration.rate("elementwise", 1, moved) or bandwidth
    return len(passes) * moved / rate


def calibrated_times(kernels: Sequence[Kernel], calibration: Calibration, peak_flops: float,
                     bandwidth: float, eager_epilogues: bool = True) -> CalibratedTimes:
    """Every kernel's calibrated time, the calibrated waterline and the plain roofline's."""
    roof = waterline(kernels, peak_flops, bandwidth)
    times = [kernel_time(k, calibration, peak_flops, bandwidth, eager_epilogues) for k in kernels]
    ratio = op_byte(peak_flops, bandwidth)
    bounds = [KernelBound(k.name, k.op, k.flops, k.bytes, k.intensity, k.flops / t.calibrated if t.calibrated else 0.0,
                          t.calibrated, kernel_side(k.flops, k.bytes, ratio)) for k, t in zip(kernels, times)]
    latency = sum(t.calibrated for t in times)
    ideal = sum(k.flops for k in kernels) / peak_flops
    line = Waterline(peak_flops, bandwidth, bounds, latency, ideal / latency if latency else 0.0,
                     roof.mediant_latency, roof.mediant_efficiency)
    return CalibratedTimes(times, line, roof)
