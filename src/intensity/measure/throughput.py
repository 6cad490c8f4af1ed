"""Measured inference throughput and utilization (seed 003 3.1).

Throughput is images/s over `iters` batches after `warmup` batches, repeated for `trials` trials:
the median is reported with every trial's rate, their spread ((max - min) / median) and the torch
thread count, which is held fixed during the timing (`threads`, default: torch's current setting).
A spread above 10% (hardware.timing.BUSY_SPREAD) sets `busy` and a `warning`: something else
used the machine. Timing is the device backend's (hardware/backends.py): CUDA events after a
synchronize on a GPU, perf_counter on the CPU. With `amp` the model and its input stay fp32 and
every batch runs under torch.autocast at `dtype` (fp16 or bf16), as timm's AMP benchmarks and most
deployments run it; without it the model is cast to `dtype`. Utilization = throughput x flops per image / peak (analysis.gap holds the formula).
"""
from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from intensity.analysis.gap import computational_efficiency
from intensity.dtypes import resolve_dtype
from intensity.errors import TooLargeError, first_line
from intensity.hardware.backends import Device, select_device
from intensity.hardware.timing import busy_warning, spread
from intensity.progress import Progress, notify


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
    threads: int  # torch intra-op threads during the timing
    trial_images_per_s: tuple[float, ...]  # every trial's rate, in order
    spread: float  # (max - min) / median of the trials
    busy: bool  # spread above 10%: the machine was busy, measure again
    warning: str  # '' when the trials agreed
    amp: bool = False  # fp32 model and input, run under torch.autocast at `dtype`


def check_arguments(batch: int, warmup: int, iters: int, trials: int, device: str | Device, dtype: str,
                    option: str = "device", amp: bool = False) -> Device:
    """Fail fast, before any model is built or benchmark run, on arguments no timing can use;
    returns the device (`option` names its parameter in messages)."""
    if amp:
        from intensity.cost.analyze import autocast_dtype

        autocast_dtype(resolve_dtype(dtype))  # raises for a dtype autocast cannot run at
    if batch <= 0 or iters <= 0 or trials <= 0 or warmup < 0:
        raise ValueError(f"`batch`, `iters` and `trials` must be positive and `warmup` non-negative, got "
                         f"{batch}, {iters}, {trials} and {warmup}")
    where = select_device(device, option=option)
    resolve_dtype(dtype).torch_dtype  # noqa: B018 (raises for a dtype that cannot run here)
    return where


def _stored_dtype(dtype: str, amp: bool) -> torch.dtype:
    """What the weights and input are stored in: fp32 under autocast (it casts per op), else `dtype`."""
    return torch.float32 if amp else resolve_dtype(dtype).torch_dtype


def _autocast(device: Device, dtype: str, amp: bool) -> contextlib.AbstractContextManager:
    if not amp:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.torch_device.type, dtype=resolve_dtype(dtype).torch_dtype)


def _prepare(model: torch.nn.Module, device: Device, dtype: str, channels_last: bool,
             compile: bool, amp: bool = False) -> torch.nn.Module:
    model = model.eval().to(device=device.torch_device, dtype=_stored_dtype(dtype, amp))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return torch.compile(model) if compile else model


def _timed_run(model, x, iters: int, device: Device, tick: Callable[[], None]) -> float:  # noqa: ANN001
    """Seconds for `iters` batches (the backend's timer); `tick` after each (a progress step, cheap)."""
    def batch() -> None:
        model(x)
        tick()

    return device.seconds(batch, iters)


def _input(batch: int, input_shape: tuple[int, ...], device: Device, dtype: str, channels_last: bool,
           amp: bool = False) -> torch.Tensor:
    x = torch.randn(batch, *input_shape, device=device.torch_device, dtype=_stored_dtype(dtype, amp))
    return x.contiguous(memory_format=torch.channels_last) if channels_last and x.dim() == 4 else x


@contextlib.contextmanager
def _memory_as_error(batch: int, where: Device) -> Iterator[None]:
    """A batch the device cannot hold is the caller's `batch`, not an internal error."""
    try:
        yield
    except RuntimeError as error:  # torch.OutOfMemoryError (CUDA) is one; the CPU allocator raises a plain one
        text = str(error)
        if not isinstance(error, torch.OutOfMemoryError) and "can't allocate memory" not in text:
            raise
        raise TooLargeError(f"`batch` {batch} does not fit in the memory of {where} "
                            f"({first_line(error)[:120]}); give a smaller batch (see `intensity "
                            f"largest-batch`)") from None


def _counter(description: str, total: int, progress: Progress | None) -> Callable[[], None]:
    """A tick that reports one more finished batch of `total`."""
    done = [0]
    notify(progress, description, 0, total)

    def tick() -> None:
        done[0] += 1
        notify(progress, description, done[0], total)

    return tick


def measure_throughput(model: torch.nn.Module, batch: int, input_shape: tuple[int, ...], *,
                       device: str | Device = "cpu", dtype: str = "fp32", warmup: int = 3, iters: int = 10,
                       trials: int = 3, channels_last: bool = False, compile: bool = False,
                       threads: int | None = None, amp: bool = False,
                       progress: Progress | None = None) -> Throughput:
    """Images/s of `model` at `batch`; `progress(description, done, total)` hears of every batch
    (warm-up included), so a caller never waits more than one batch for news. `amp`: run the fp32
    model under torch.autocast at `dtype` (fp16/bf16) instead of casting it."""
    where = check_arguments(batch, warmup, iters, trials, device, dtype, amp=amp)
    torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32"
    torch.backends.cudnn.allow_tf32 = dtype == "tf32"
    tick = _counter(f"timing batch {batch} on {where}", warmup + trials * iters, progress)
    with (where.threads(threads) as used, torch.inference_mode(), _memory_as_error(batch, where),
          _autocast(where, dtype, amp)):
        runnable = _prepare(model, where, dtype, channels_last, compile, amp)
        x = _input(batch, input_shape, where, dtype, channels_last, amp)
        _timed_run(runnable, x, warmup, where, tick) if warmup else None
        rates = [batch * iters / _timed_run(runnable, x, iters, where, tick) for _ in range(trials)]
    return _summary(rates, str(where), batch, dtype, iters, channels_last, compile, used, amp)


def _summary(rates: list[float], device: str, batch: int, dtype: str, iters: int, channels_last: bool,
             compile: bool, threads: int, amp: bool = False) -> Throughput:
    median = statistics.median(rates)
    width = spread(rates)
    warning = busy_warning(f"throughput of batch {batch} on {device}", rates, threads)
    return Throughput(device, batch, dtype, median, min(rates), max(rates), batch / median, len(rates),
                      iters, channels_last, compile, threads, tuple(rates), width, bool(warning), warning, amp)


def utilization(images_per_s: float, flops_per_image: float, peak_flops: float) -> float:
    """Seed 003 3.1: achieved flops/s over peak flops/s (seed 001's computational efficiency)."""
    return computational_efficiency(images_per_s * flops_per_image, peak_flops)
