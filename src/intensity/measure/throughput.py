"""Measured inference throughput and utilization (seed 003 3.1).

Throughput is images/s over `iters` batches after `warmup` batches, repeated for `trials` trials
(median reported, with the spread). CUDA runs are timed with CUDA events after a synchronize;
CPU runs with perf_counter. Utilization = throughput x flops per image / peak flops/s.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch

from intensity.dtypes import resolve_dtype


@dataclass(frozen=True)
class Throughput:
    device: str
    batch: int
    dtype: str
    images_per_s: float  # median over trials
    images_per_s_min: float
    images_per_s_max: float
    batch_latency: float  # seconds per batch at the median
    trials: int
    iters: int
    channels_last: bool
    compiled: bool


def _check(batch: int, warmup: int, iters: int, trials: int, device: str, dtype: str) -> None:
    if batch <= 0 or iters <= 0 or trials <= 0 or warmup < 0:
        raise ValueError("batch, iters and trials must be positive and warmup non-negative")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown measurement device {device!r}; use cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("no CUDA device here; measure with --on cpu")
    resolve_dtype(dtype).torch_dtype  # noqa: B018 (raises for a dtype that cannot run here)


def _prepare(model: torch.nn.Module, device: str, dtype: str, channels_last: bool,
             compile: bool) -> torch.nn.Module:
    model = model.eval().to(device=device, dtype=resolve_dtype(dtype).torch_dtype)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return torch.compile(model) if compile else model


def _timed_run(model, x, iters: int, device: str) -> float:  # noqa: ANN001
    if device == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        for _ in range(iters):
            model(x)
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1e3
    begin = time.perf_counter()
    for _ in range(iters):
        model(x)
    return time.perf_counter() - begin


def measure_throughput(model: torch.nn.Module, batch: int, input_shape: tuple[int, ...], *,
                       device: str = "cpu", dtype: str = "fp32", warmup: int = 3, iters: int = 10,
                       trials: int = 3, channels_last: bool = False, compile: bool = False) -> Throughput:
    _check(batch, warmup, iters, trials, device, dtype)
    torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32"
    torch.backends.cudnn.allow_tf32 = dtype == "tf32"
    runnable = _prepare(model, device, dtype, channels_last, compile)
    x = torch.randn(batch, *input_shape, device=device, dtype=resolve_dtype(dtype).torch_dtype)
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        _timed_run(runnable, x, warmup, device) if warmup else None
        rates = [batch * iters / _timed_run(runnable, x, iters, device) for _ in range(trials)]
    median = statistics.median(rates)
    return Throughput(device, batch, dtype, median, min(rates), max(rates), batch / median, trials,
                      iters, channels_last, compile)


def utilization(images_per_s: float, flops_per_image: float, peak_flops: float) -> float:
    """Seed 003 3.1: achieved flops/s over peak flops/s."""
    if peak_flops <= 0:
        raise ValueError("peak flops/s must be positive")
    return images_per_s * flops_per_image / peak_flops
