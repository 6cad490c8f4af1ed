"""Energy of inference from NVML power samples (seed 004 II-C, Eqn 1-2).

Power is sampled every `interval` seconds on a background thread while the timed batches run;
energy = mean power x elapsed time. EPP (Eqn 1) = energy per image / pixels per image;
energy efficiency (Eqn 2) = MACs per joule. Needs an NVIDIA GPU and `nvidia-ml-py`
(`pip install -e .[gpu]`), imported lazily; elsewhere `energy_unavailable()` says why. The GPU's
NVML handle is found by its UUID, so CUDA_VISIBLE_DEVICES renumbering picks the right board.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import torch

from intensity.hardware.backends import BACKENDS, Device, select_device
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
    if BACKENDS["cuda"].unavailable():
        return "energy unavailable on this device: NVML power readings need an NVIDIA GPU"
    try:
        _nvml()
    except ValueError as error:
        return str(error)
    return None


def _nvml():  # noqa: ANN202 (the pynvml module)
    """pynvml, initialised; a ValueError saying why when the bindings or the driver are missing."""
    try:
        import pynvml  # provided by nvidia-ml-py
    except ImportError:
        raise ValueError("energy unavailable: install NVML bindings with `pip install -e .[gpu]`") from None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as error:
        raise ValueError(f"energy unavailable: NVML did not start ({error}); check the NVIDIA driver") from None
    return pynvml


def _nvml_handle(nvml, device: Device):  # noqa: ANN001, ANN202
    """The NVML handle of `device`: by UUID (robust to CUDA_VISIBLE_DEVICES), else by index."""
    uuid = str(getattr(torch.cuda.get_device_properties(device.torch_device), "uuid", ""))
    try:
        return nvml.nvmlDeviceGetHandleByUUID(uuid if uuid.startswith(("GPU-", "MIG-")) else f"GPU-{uuid}")
    except nvml.NVMLError:
        return nvml.nvmlDeviceGetHandleByIndex(device.torch_device.index or 0)


@dataclass(frozen=True)
class Energy:
    mean_power_w: float
    seconds: float
    images: int
    joules_per_image: float
    epp: float  # J per pixel
    macs_per_joule: float


class _PowerSampler:
    def __init__(self, interval: float, device: Device) -> None:
        self._nvml = _nvml()
        self._handle = _nvml_handle(self._nvml, device)
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
                   *, dtype: str = "fp16", iters: int = 50, interval: float = 0.01, device: str = "cuda",
                   threads: int | None = None, amp: bool = False, progress: Progress | None = None) -> Energy:
    """Mean NVML power of GPU `device` over `iters` timed batches; `progress` hears of every batch;
    `amp` runs the fp32 model under torch.autocast at `dtype`."""
    reason = energy_unavailable()
    if reason:
        raise ValueError(reason)
    where = select_device(device)
    if where.kind != "cuda":
        raise ValueError(f"`device` {where}: energy needs NVML power readings of an NVIDIA GPU; give cuda or cuda:N")
    with _PowerSampler(interval, where) as sampler:
        result = measure_throughput(model, batch, input_shape, device=where, dtype=dtype, iters=iters,
                                    trials=1, warmup=5, threads=threads, amp=amp, progress=progress)
    images = batch * iters
    seconds = images / result.images_per_s
    power = sum(sampler.samples) / max(len(sampler.samples), 1)
    pixels = input_shape[-1] * input_shape[-2]
    return Energy(power, seconds, images, power * seconds / images,
                  energy_per_pixel(power, seconds, images, pixels),
                  macs_per_joule(macs_per_image, images, power, seconds))
