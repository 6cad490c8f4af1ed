"""Energy of inference from NVML power samples (seed 004 II-C, Eqn 1-2).

Power is sampled every `interval` seconds on a background thread while the timed batches run;
energy = mean power x elapsed time. EPP (Eqn 1) = energy per image / pixels per image;
energy efficiency (Eqn 2) = MACs per joule. Needs an NVIDIA GPU and `nvidia-ml-py`
(`pip install -e .[gpu]`); elsewhere `energy_unavailable()` says why.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import torch

from intensity.measure.throughput import measure_throughput
from intensity.progress import Progress


def energy_per_pixel(power_w: float, seconds: float, images: int, pixels_per_image: int) -> float:
    """Seed 004 Eqn 1: joules per input pixel."""
    return power_w * seconds / (images * pixels_per_image)


def macs_per_joule(macs_per_image: float, images: int, power_w: float, seconds: float) -> float:
    """Seed 004 Eqn 2: (batch x MACs) / (average power x inference time)."""
    return images * macs_per_image / (power_w * seconds)


def energy_unavailable() -> str | None:
    """Why energy cannot be measured here, or None when it can."""
    if not torch.cuda.is_available():
        return "energy unavailable on this device: NVML power readings need an NVIDIA GPU"
    try:
        import pynvml  # noqa: F401 (provided by nvidia-ml-py)
    except ImportError:
        return "energy unavailable: install NVML bindings with `pip install -e .[gpu]`"
    return None


@dataclass(frozen=True)
class Energy:
    mean_power_w: float
    seconds: float
    images: int
    joules_per_image: float
    epp: float  # J per pixel
    macs_per_joule: float


class _PowerSampler:
    def __init__(self, interval: float) -> None:
        import pynvml

        pynvml.nvmlInit()
        self._nvml = pynvml
        self._handle = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
        self._interval, self.samples = interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._nvml.nvmlDeviceGetPowerUsage(self._handle) / 1e3)  # mW -> W
            time.sleep(self._interval)

    def __enter__(self) -> _PowerSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure_energy(model: torch.nn.Module, batch: int, input_shape: tuple[int, ...], macs_per_image: float,
                   *, dtype: str = "fp16", iters: int = 50, interval: float = 0.01,
                   threads: int | None = None, progress: Progress | None = None) -> Energy:
    """Mean NVML power over `iters` timed batches; `progress` hears of every batch."""
    reason = energy_unavailable()
    if reason:
        raise ValueError(reason)
    with _PowerSampler(interval) as sampler:
        result = measure_throughput(model, batch, input_shape, device="cuda", dtype=dtype, iters=iters,
                                    trials=1, warmup=5, threads=threads, progress=progress)
    images = batch * iters
    seconds = images / result.images_per_s
    power = sum(sampler.samples) / max(len(sampler.samples), 1)
    pixels = input_shape[-1] * input_shape[-2]
    return Energy(power, seconds, images, power * seconds / images,
                  energy_per_pixel(power, seconds, images, pixels),
                  macs_per_joule(macs_per_image, images, power, seconds))
