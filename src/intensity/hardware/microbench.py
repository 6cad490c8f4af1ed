"""Micro-benchmarks of the present device: achievable matmul peak and copy bandwidth.

`cpu` and `measured` specs come from here. Each benchmark runs with a fixed thread count, warms
up, then times several trials, each repeating the work until it lasts about `min_seconds`
(so a trial is never one short, noisy call), and reports the best trial, as seed 003 measures
the V100's achievable peak, with the spread of all trials (a wide spread: the machine was busy).
Results are cached for the process per (dtype, device, size, trials, threads).
"""
from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable

import torch

from intensity.dtypes import resolve_dtype
from intensity.hardware.spec import HardwareSpec
from intensity.hardware.timing import Benchmark, fixed_threads
from intensity.progress import Progress, notify

TRIALS = 7
MIN_SECONDS = 0.15  # per trial: long enough that timer and scheduler jitter stay small
_CACHE: dict[tuple, Benchmark] = {}


def present_device(kind: str = "measured") -> str:
    """`cpu`, or for `measured` the CUDA device when one is present."""
    return "cuda" if kind == "measured" and torch.cuda.is_available() else "cpu"


def _synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _seconds(work: Callable[[], object], device: str, repeats: int) -> float:
    """Wall seconds of `repeats` calls of `work`, device work included."""
    _synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        work()
    _synchronize(device)
    return time.perf_counter() - start


def _trial_seconds(work: Callable[[], object], device: str, trials: int, min_seconds: float,
                   description: str, progress: Progress | None) -> tuple[list[float], int]:
    """Seconds per call in each trial, and the calls per trial (sized to last `min_seconds`)."""
    if trials <= 0 or min_seconds < 0:
        raise ValueError(f"trials must be positive and min_seconds non-negative, got {trials}, {min_seconds}")
    notify(progress, description, 0, trials)
    work()  # warm-up: allocation, kernel selection, thread pool start
    once = _seconds(work, device, 1)  # a second warm-up that also sizes the trials
    repeats = max(1, math.ceil(min_seconds / max(once, 1e-9)))
    per_call = []
    for trial in range(trials):
        per_call.append(_seconds(work, device, repeats) / repeats)
        notify(progress, description, trial + 1, trials)
    return per_call, repeats


def _check_size(name: str, value: int) -> None:
    if value <= 0:
        raise ValueError(f"the micro-benchmark {name} must be positive, got {value}")


def benchmark_peak(dtype: str = "fp32", device: str = "cpu", size: int | None = None, *,
                   trials: int = TRIALS, threads: int | None = None, min_seconds: float = MIN_SECONDS,
                   progress: Progress | None = None) -> Benchmark:
    """Achievable dense matmul TFLOP/s for `dtype` on `device` (n x n x n, 2 n^3 flops per call).

    n defaults to 8192 on CUDA and 1024 on the CPU (fp32 operands of 4 MB: BLAS-efficient, and
    a call takes tens of ms on a small CPU, so trials stay short)."""
    data_type = resolve_dtype(dtype)
    if data_type.torch_name is None:
        raise ValueError(f"cannot measure a {data_type.name} peak with a matmul here; give `peak_tflops`")
    n = size if size is not None else (8192 if device == "cuda" else 1024)
    _check_size("matrix size", n)
    key = ("peak", data_type.name, device, n, trials, threads, min_seconds)
    if key not in _CACHE:
        _CACHE[key] = _run_peak(data_type, device, n, trials, threads, min_seconds, progress)
    return _CACHE[key]


def _run_peak(data_type, device: str, n: int, trials: int, threads: int | None,  # noqa: ANN001
              min_seconds: float, progress: Progress | None) -> Benchmark:
    a = torch.randn(n, n, device=device).to(data_type.torch_dtype)
    b = torch.randn(n, n, device=device).to(data_type.torch_dtype)
    what = f"{device} {data_type.name} matmul peak"
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = data_type.name == "tf32"
    try:
        with fixed_threads(threads) as used:
            seconds, repeats = _trial_seconds(lambda: torch.mm(a, b), device, trials, min_seconds, what, progress)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    rates = tuple(2 * n**3 / s / 1e12 for s in seconds)
    return Benchmark(what, "TFLOP/s", max(rates), rates, used, repeats * min(seconds))


def benchmark_bandwidth(device: str = "cpu", megabytes: int = 256, *, trials: int = TRIALS,
                        threads: int | None = None, min_seconds: float = MIN_SECONDS,
                        progress: Progress | None = None) -> Benchmark:
    """Achievable DRAM bandwidth in GB/s: a copy of `megabytes` reads and writes every byte once
    (256 MB by default: far larger than any CPU cache)."""
    _check_size("buffer size in MB", megabytes)
    key = ("bandwidth", device, megabytes, trials, threads, min_seconds)
    if key not in _CACHE:
        elements = megabytes * 2**20 // 4
        source = torch.empty(elements, device=device).fill_(1.0)
        target = torch.empty_like(source)
        what = f"{device} copy bandwidth"
        with fixed_threads(threads) as used:
            seconds, repeats = _trial_seconds(lambda: target.copy_(source), device, trials, min_seconds,
                                              what, progress)
        rates = tuple(2 * elements * 4 / s / 1e9 for s in seconds)
        _CACHE[key] = Benchmark(what, "GB/s", max(rates), rates, used, repeats * min(seconds))
    return _CACHE[key]


def measure_peak_tflops(dtype: str = "fp32", device: str = "cpu", size: int | None = None, *,
                        trials: int = TRIALS, threads: int | None = None,
                        progress: Progress | None = None) -> float:
    """The best trial of `benchmark_peak`, TFLOP/s."""
    return benchmark_peak(dtype, device, size, trials=trials, threads=threads, progress=progress).best


def measure_bandwidth_gbs(device: str = "cpu", megabytes: int = 256, *, trials: int = TRIALS,
                          threads: int | None = None, progress: Progress | None = None) -> float:
    """The best trial of `benchmark_bandwidth`, GB/s."""
    return benchmark_bandwidth(device, megabytes, trials=trials, threads=threads, progress=progress).best


def _device_name(device: str, threads: int) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores, {threads} torch threads"


def measured_spec(kind: str, dtype: str, need_peak: bool = True, *, threads: int | None = None,
                  progress: Progress | None = None) -> HardwareSpec:
    """A spec of this machine measured now: matmul peak for `dtype` and copy bandwidth, with each
    benchmark's spread in `benchmarks` and a warning per busy one in `warnings`."""
    device = present_device(kind)
    name = resolve_dtype(dtype).name
    runs = [benchmark_peak(name, device, threads=threads, progress=progress)] if need_peak else []
    runs.append(benchmark_bandwidth(device, threads=threads, progress=progress))
    return HardwareSpec(
        key=kind, name=_device_name(device, runs[-1].threads),
        peak_tflops={name: runs[0].best} if need_peak else {}, bandwidth_gbs=runs[-1].best,
        source=f"measured on this machine ({device}): best of {TRIALS} trials of matmul and copy "
               f"micro-benchmarks",
        notes="; ".join(run.describe() for run in runs),
        benchmarks=tuple(runs), warnings=tuple(run.warning for run in runs if run.warning),
    )
