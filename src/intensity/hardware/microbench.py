"""Micro-benchmarks of the present device: achievable matmul peak and copy bandwidth.

`cpu` and `measured` specs come from here. Each benchmark runs with a fixed thread count, warms
up, then times several trials, each repeating the work until it lasts about `min_seconds`
(so a trial is never one short, noisy call), and reports the best trial, as seed 003 measures
the V100's achievable peak, with the spread of all trials (a wide spread: the machine was busy).
Results are cached for the process per (dtype, device, size, trials, threads).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

from intensity.dtypes import resolve_dtype
from intensity.hardware.backends import Device, default_device, select_device
from intensity.hardware.spec import HardwareSpec
from intensity.hardware.timing import Benchmark
from intensity.progress import Progress, notify

TRIALS = 7
MIN_SECONDS = 0.15  # per trial: long enough that timer and scheduler jitter stay small
_CACHE: dict[tuple, Benchmark] = {}


def present_device(kind: str = "measured") -> Device:
    """The CPU, or for `measured` the default device (the GPU when one is present)."""
    return default_device() if kind == "measured" else select_device("cpu")


def _trial_seconds(work: Callable[[], object], device: Device, trials: int, min_seconds: float,
                   description: str, progress: Progress | None) -> tuple[list[float], int]:
    """Seconds per call in each trial, and the calls per trial (sized to last `min_seconds`)."""
    if trials <= 0 or min_seconds < 0:
        raise ValueError(f"trials must be positive and min_seconds non-negative, got {trials}, {min_seconds}")
    notify(progress, description, 0, trials)
    work()  # warm-up: allocation, kernel selection, thread pool start
    once = device.seconds(work)  # a second warm-up that also sizes the trials
    repeats = max(1, math.ceil(min_seconds / max(once, 1e-9)))
    per_call = []
    for trial in range(trials):
        per_call.append(device.seconds(work, repeats) / repeats)
        notify(progress, description, trial + 1, trials)
    return per_call, repeats


def _check_size(name: str, value: int) -> None:
    if value <= 0:
        raise ValueError(f"the micro-benchmark {name} must be positive, got {value}")


def benchmark_peak(dtype: str = "fp32", device: str | Device = "cpu", size: int | None = None, *,
                   trials: int = TRIALS, threads: int | None = None, min_seconds: float = MIN_SECONDS,
                   progress: Progress | None = None) -> Benchmark:
    """Achievable dense matmul TFLOP/s for `dtype` on `device` (n x n x n, 2 n^3 flops per call).

    n defaults to 8192 on CUDA and 1024 on the CPU (fp32 operands of 4 MB: BLAS-efficient, and
    a call takes tens of ms on a small CPU, so trials stay short)."""
    data_type = resolve_dtype(dtype)
    if data_type.torch_name is None:
        raise ValueError(f"cannot measure a {data_type.name} peak with a matmul here; give `peak_tflops`")
    where = select_device(device)
    n = size if size is not None else (1024 if where.kind == "cpu" else 8192)
    _check_size("matrix size", n)
    key = ("peak", data_type.name, str(where), n, trials, threads, min_seconds)
    if key not in _CACHE:
        _CACHE[key] = _run_peak(data_type, where, n, trials, threads, min_seconds, progress)
    return _CACHE[key]


def _run_peak(data_type, device: Device, n: int, trials: int, threads: int | None,  # noqa: ANN001
              min_seconds: float, progress: Progress | None) -> Benchmark:
    a = torch.randn(n, n, device=device.torch_device).to(data_type.torch_dtype)
    b = torch.randn(n, n, device=device.torch_device).to(data_type.torch_dtype)
    what = f"{device} {data_type.name} matmul peak"
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = data_type.name == "tf32"
    try:
        with device.threads(threads) as used:
            seconds, repeats = _trial_seconds(lambda: torch.mm(a, b), device, trials, min_seconds, what, progress)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    rates = tuple(2 * n**3 / s / 1e12 for s in seconds)
    return Benchmark(what, "TFLOP/s", max(rates), rates, used, repeats * min(seconds))


def benchmark_bandwidth(device: str | Device = "cpu", megabytes: int = 256, *, trials: int = TRIALS,
                        threads: int | None = None, min_seconds: float = MIN_SECONDS,
                        progress: Progress | None = None) -> Benchmark:
    """Achievable DRAM bandwidth in GB/s: a copy of `megabytes` reads and writes every byte once
    (256 MB by default: far larger than any CPU cache)."""
    _check_size("buffer size in MB", megabytes)
    where = select_device(device)
    key = ("bandwidth", str(where), megabytes, trials, threads, min_seconds)
    if key not in _CACHE:
        elements = megabytes * 2**20 // 4
        source = torch.empty(elements, device=where.torch_device).fill_(1.0)
        target = torch.empty_like(source)
        what = f"{where} copy bandwidth"
        with where.threads(threads) as used:
            seconds, repeats = _trial_seconds(lambda: target.copy_(source), where, trials, min_seconds,
                                              what, progress)
        rates = tuple(2 * elements * 4 / s / 1e9 for s in seconds)
        _CACHE[key] = Benchmark(what, "GB/s", max(rates), rates, used, repeats * min(seconds))
    return _CACHE[key]


def measure_peak_tflops(dtype: str = "fp32", device: str | Device = "cpu", size: int | None = None, *,
                        trials: int = TRIALS, threads: int | None = None,
                        progress: Progress | None = None) -> float:
    """The best trial of `benchmark_peak`, TFLOP/s."""
    return benchmark_peak(dtype, device, size, trials=trials, threads=threads, progress=progress).best


def measure_bandwidth_gbs(device: str | Device = "cpu", megabytes: int = 256, *, trials: int = TRIALS,
                          threads: int | None = None, progress: Progress | None = None) -> float:
    """The best trial of `benchmark_bandwidth`, GB/s."""
    return benchmark_bandwidth(device, megabytes, trials=trials, threads=threads, progress=progress).best


def _device_name(device: Device, threads: int) -> str:
    return device.name() + (f", {threads} torch threads" if device.kind == "cpu" else "")


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
