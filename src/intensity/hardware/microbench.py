"""Micro-benchmarks of the present device: achievable matmul peak and copy bandwidth.

`cpu` and `measured` specs come from here: a large matmul per dtype (best of a few runs, as seed
003 measures the V100's achievable 100 TFLOP/s) and a large device-to-device copy counting the
bytes read and written. Results are cached for the process.
"""
from __future__ import annotations

import os
import platform
import time
from functools import cache

import torch

from intensity.dtypes import resolve_dtype
from intensity.hardware.spec import HardwareSpec



def present_device(kind: str = "measured") -> str:
    """`cpu`, or for `measured` the CUDA device when one is present."""
    return "cuda" if kind == "measured" and torch.cuda.is_available() else "cpu"


def _synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _best_seconds(work, device: str, repeats: int) -> float:  # noqa: ANN001 (a callable)
    work()  # warm-up: allocation, kernel selection, thread pool start
    _synchronize(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        _synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


@cache
def measure_peak_tflops(dtype: str = "fp32", device: str = "cpu", size: int | None = None,
                        repeats: int = 5) -> float:
    """Achievable dense matmul TFLOP/s for `dtype` on `device` (n x n x n, 2 n^3 flops)."""
    data_type = resolve_dtype(dtype)
    name = data_type.name
    if data_type.torch_name is None:
        raise ValueError(f"cannot measure a {name} peak with a matmul here; give --peak-tflops")
    n = size or (8192 if device == "cuda" else 1024)
    a = torch.randn(n, n, device=device).to(data_type.torch_dtype)
    b = torch.randn(n, n, device=device).to(data_type.torch_dtype)
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = name == "tf32"
    try:
        seconds = _best_seconds(lambda: torch.mm(a, b), device, repeats)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    return 2 * n**3 / seconds / 1e12


@cache
def measure_bandwidth_gbs(device: str = "cpu", megabytes: int = 256, repeats: int = 5) -> float:
    """Achievable DRAM bandwidth in GB/s: a copy reads and writes every byte once."""
    elements = megabytes * 2**20 // 4
    source = torch.empty(elements, device=device).fill_(1.0)
    target = torch.empty_like(source)
    seconds = _best_seconds(lambda: target.copy_(source), device, repeats)
    return 2 * source.numel() * 4 / seconds / 1e9


def _device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores, " \
           f"{torch.get_num_threads()} torch threads"


def measured_spec(kind: str, dtype: str, need_peak: bool = True) -> HardwareSpec:
    """A spec of this machine measured now: matmul peak for `dtype` and copy bandwidth."""
    device = present_device(kind)
    name = resolve_dtype(dtype).name
    peaks = {name: measure_peak_tflops(name, device)} if need_peak else {}
    return HardwareSpec(
        key=kind, name=_device_name(device), peak_tflops=peaks,
        bandwidth_gbs=measure_bandwidth_gbs(device),
        source=f"measured on this machine ({device}): best-of-5 matmul and copy micro-benchmarks",
    )
