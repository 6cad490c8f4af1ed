"""Roofline, waterline and Amdahl's roofline over a cost report (seed 001 4, App. B; seed 000 2.2).

Roofline (Eqn 10): a kernel attains min(R, B * n / b) flops/s, with R the device's peak, B its
bandwidth, n the kernel's flops and b its bytes. Its minimum latency (Eqn 11) is n / that, or
b / B for a kernel without flops. Waterline (Eqn 12-13): the minimum latency of the kernel
sequence is the sum of the kernels' minimum latencies, and the maximum computational efficiency
is (sum n / R) / that latency. The roofline of the mediant applies Eqn 10 once to the totals
(sum n / sum b); it equals the waterline when all kernels sit on the same side of op:byte and is
optimistic when they are mixed (4.3).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from intensity.cost.fusion import Kernel
from intensity.cost.metrics import bound as kernel_side
from intensity.hardware.spec import op_byte


@dataclass(frozen=True)
class KernelBound:
    name: str
    op: str
    flops: int
    bytes: int
    intensity: float
    attainable_flops: float  # flops/s (Eqn 10)
    latency: float  # seconds (Eqn 11)
    bound: str  # "memory" or "compute"


@dataclass(frozen=True)
class Waterline:
    peak_flops: float
    bandwidth: float
    kernels: list[KernelBound]
    latency: float  # Eqn 12, seconds
    efficiency: float  # Eqn 13: ideal (flops / peak) over waterline latency
    mediant_latency: float  # roofline of the mediant intensity
    mediant_efficiency: float

    @property
    def op_byte(self) -> float:
        return op_byte(self.peak_flops, self.bandwidth)

    @property
    def ideal_latency(self) -> float:
        return sum(k.flops for k in self.kernels) / self.peak_flops


def kernel_latency(flops: float, nbytes: float, peak_flops: float, bandwidth: float) -> float:
    """Eqn 11: the larger of compute time and memory time."""
    return max(flops / peak_flops, nbytes / bandwidth)


def kernel_bound(kernel: Kernel, peak_flops: float, bandwidth: float) -> KernelBound:
    latency = kernel_latency(kernel.flops, kernel.bytes, peak_flops, bandwidth)
    attainable = kernel.flops / latency if latency else 0.0
    return KernelBound(kernel.name, kernel.op, kernel.flops, kernel.bytes, kernel.intensity,
                       attainable, latency, kernel_side(kernel.flops, kernel.bytes, op_byte(peak_flops, bandwidth)))


def waterline(kernels: Sequence[Kernel], peak_flops: float, bandwidth: float) -> Waterline:
    """Eqn 12-13 for a kernel sequence, next to the roofline of its mediant intensity."""
    if not peak_flops > 0 or not bandwidth > 0:
        raise ValueError("waterline needs a positive peak and bandwidth: give `device`")
    bounds = [kernel_bound(k, peak_flops, bandwidth) for k in kernels]
    flops = sum(k.flops for k in kernels)
    latency = sum(b.latency for b in bounds)
    mediant = kernel_latency(flops, sum(k.bytes for k in kernels), peak_flops, bandwidth)
    ideal = flops / peak_flops
    return Waterline(peak_flops, bandwidth, bounds, latency, ideal / latency if latency else 0.0,
                     mediant, ideal / mediant if mediant else 0.0)


def amdahl_speedups(line: Waterline) -> list[tuple[KernelBound, float]]:
    """App. B: the whole-sequence speedup if one memory-bound kernel ran at peak (compute bound).

    Fixing kernel i shortens the sequence from T to T - t_i + n_i / R; the list is sorted by
    speedup, largest first, so the kernels worth fixing come first.
    """
    results = []
    for bound in line.kernels:
        if bound.bound == "memory":
            fixed = line.latency - bound.latency + bound.flops / line.peak_flops
            results.append((bound, line.latency / fixed if fixed else float("inf")))
    return sorted(results, key=lambda item: item[1], reverse=True)


def efficiency_vs_op_byte(kernels: Sequence[Kernel], op_bytes: Sequence[float],
                          peak_flops: float = 1e14) -> list[tuple[float, float, float]]:
    """Seed 001 Fig. 4: (op:byte, waterline efficiency, mediant-roofline efficiency) per ratio.

    Efficiency depends only on the ratio, so the peak is fixed and bandwidth = peak / op:byte.
    """
    results = []
    for ratio in op_bytes:
        if ratio <= 0:
            raise ValueError(f"op:byte ratios must be positive, got {ratio}")
        line = waterline(kernels, peak_flops, peak_flops / ratio)
        results.append((ratio, line.efficiency, line.mediant_efficiency))
    return results
