"""Device backends: everything that differs between running on the CPU and on an accelerator.

One `Backend` per kind of device (cpu, cuda; mps or xpu would be one more registered class) gives:
availability (with the reason when not), a description, `synchronize`, one timer (`stopwatch`:
CUDA events on a GPU, perf_counter on the CPU, where work is synchronous), memory figures, thread
control, and what training may use there (mixed precision, pinned memory, channels-last).
A `Device` is a backend bound to one torch device (`cuda:1`); `select_device('cuda:1')` parses
what a user types and refuses an unknown or absent device with one ValueError that names the fix.
Micro-benchmarks, throughput, calibration, energy and the trainer all time and place work here.
"""
from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from intensity.hardware.timing import fixed_threads
from intensity.registry import Registry

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}  # what --amp accepts


@dataclass
class Lap:
    """A stopwatch reading: `seconds` is set when the timed block ends."""

    seconds: float = 0.0


@dataclass(frozen=True)
class Memory:
    """Memory figures of a device, bytes; None where the backend does not track the figure."""

    peak_allocated: int | None  # the most torch held at once since the last reset (CUDA)
    total: int | None  # device memory (CUDA) or physical memory (CPU)
    note: str = ""  # what the figures count, or why one is missing


class Backend:
    """One kind of device. Subclasses set the class attributes and override what differs."""

    name = ""
    description = ""
    torch_type = ""  # torch's device type, when it differs from `name`
    pin_memory = False  # page-locked host batches speed up host-to-device copies
    channels_last = False  # NHWC convolutions are faster (tensor cores) than NCHW

    def unavailable(self) -> str | None:
        """Why this backend cannot run here, or None when it can."""
        return None

    def count(self) -> int:
        """Devices of this kind present (0 when unavailable)."""
        return 0 if self.unavailable() else 1

    def current_index(self) -> int:
        """The device a bare name (`cuda`) means."""
        return 0

    def synchronize(self, device: torch.device) -> None:
        """Wait until all work queued on `device` has finished (no-op where work is synchronous)."""

    @contextmanager
    def stopwatch(self, device: torch.device) -> Iterator[Lap]:
        """Time the block, device work included: wall clock around synchronous work."""
        lap = Lap()
        start = time.perf_counter()
        yield lap
        lap.seconds = time.perf_counter() - start

    def memory(self, device: torch.device) -> Memory:
        return Memory(None, None, f"{self.name} reports no memory figures")

    def reset_peak_memory(self, device: torch.device) -> None:
        """Start a new peak (no-op where the backend does not track one)."""

    def device_name(self, device: torch.device) -> str:
        return self.description

    def threads(self, threads: int | None) -> AbstractContextManager[int]:
        """Run the block with `threads` torch threads (None: keep the setting); yields the count."""
        return fixed_threads(threads)

    def amp_refusal(self, amp: str) -> str | None:
        """Why mixed precision `amp` (bf16/fp16) cannot be used here, or None when it can."""
        return f"mixed precision is not supported on {self.name}"


BACKENDS: Registry[Backend] = Registry("device backend", hint="choose cpu, cuda or cuda:N")


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Class decorator: register one instance of a Backend under its `name`."""
    BACKENDS.add(cls.name, cls())
    return cls


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def physical_memory() -> int | None:
    """Bytes of RAM, where the OS says (POSIX sysconf)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _peak_rss() -> str:
    """The process's peak resident memory so far, as words (POSIX only)."""
    try:
        import resource
    except ImportError:  # Windows
        return "the process's peak RSS is not available here"
    return f"the process's peak RSS so far is {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB"


@register_backend
class CpuBackend(Backend):
    name = "cpu"
    description = "the host CPU (synchronous: wall-clock timing)"

    def memory(self, device: torch.device) -> Memory:
        return Memory(None, physical_memory(), f"torch does not track CPU allocations; {_peak_rss()}")

    def device_name(self, device: torch.device) -> str:
        return f"{cpu_model()}, {os.cpu_count()} cores"

    def amp_refusal(self, amp: str) -> str | None:
        return (f"mixed precision ({amp}) is for accelerators with fp16/bf16 matrix units (tensor cores); "
                f"on the CPU it runs no faster than fp32 here and changes the results, so train the CPU "
                f"run in fp32 (drop --amp) or use --device cuda")


@register_backend
class CudaBackend(Backend):
    name = "cuda"
    description = "an NVIDIA GPU through CUDA (asynchronous: CUDA-event timing)"
    pin_memory = True
    channels_last = True

    def unavailable(self) -> str | None:
        if not torch.backends.cuda.is_built():
            return "this torch build has no CUDA support (install a CUDA build of torch)"
        if not torch.cuda.is_available():
            return "no CUDA device is visible (torch.cuda.is_available() is False)"
        return None

    def count(self) -> int:
        return torch.cuda.device_count() if self.unavailable() is None else 0

    def current_index(self) -> int:
        return torch.cuda.current_device()

    def synchronize(self, device: torch.device) -> None:
        torch.cuda.synchronize(device)

    @contextmanager
    def stopwatch(self, device: torch.device) -> Iterator[Lap]:
        """CUDA events on the current stream: GPU time of the queued work, not host launch time."""
        lap = Lap()
        with torch.cuda.device(device):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()  # work queued before the block is not counted
            start.record()
            yield lap
            end.record()
            end.synchronize()
        lap.seconds = start.elapsed_time(end) / 1e3  # ms -> s

    def memory(self, device: torch.device) -> Memory:
        total = torch.cuda.get_device_properties(device).total_memory
        return Memory(torch.cuda.max_memory_allocated(device), total, "torch's caching allocator, this process")

    def reset_peak_memory(self, device: torch.device) -> None:
        torch.cuda.reset_peak_memory_stats(device)

    def device_name(self, device: torch.device) -> str:
        properties = torch.cuda.get_device_properties(device)
        return f"{properties.name}, {properties.total_memory / 2**30:.0f} GiB, compute {properties.major}.{properties.minor}"

    def amp_refusal(self, amp: str) -> str | None:
        if amp == "bf16" and not torch.cuda.is_bf16_supported():
            return "this GPU has no bf16 support (it needs compute capability 8.0+); use --amp fp16"
        return None


@dataclass(frozen=True)
class Device:
    """A backend bound to one torch device: where work runs and how it is timed."""

    backend: Backend
    torch_device: torch.device

    def __str__(self) -> str:
        return str(self.torch_device)

    @property
    def kind(self) -> str:
        return self.backend.name

    def synchronize(self) -> None:
        self.backend.synchronize(self.torch_device)

    def stopwatch(self) -> AbstractContextManager[Lap]:
        return self.backend.stopwatch(self.torch_device)

    def seconds(self, work: Callable[[], object], repeats: int = 1) -> float:
        """Seconds of `repeats` calls of `work`, device work included: the one timer."""
        with self.stopwatch() as lap:
            for _ in range(repeats):
                work()
        return lap.seconds

    def memory(self) -> Memory:
        return self.backend.memory(self.torch_device)

    def reset_peak_memory(self) -> None:
        self.backend.reset_peak_memory(self.torch_device)

    def name(self) -> str:
        return self.backend.device_name(self.torch_device)

    def threads(self, threads: int | None) -> AbstractContextManager[int]:
        return self.backend.threads(threads)

    def amp_dtype(self, amp: str | None) -> torch.dtype | None:
        """The autocast dtype for `amp` (None: full precision), or a ValueError saying why not here."""
        if amp is None:
            return None
        if amp not in AMP_DTYPES:
            raise ValueError(f"unknown `amp` {amp!r}; choose one of {', '.join(AMP_DTYPES)}, or leave it out")
        refusal = self.backend.amp_refusal(amp)
        if refusal:
            raise ValueError(f"`amp` {amp} on {self}: {refusal}")
        return AMP_DTYPES[amp]


def default_device() -> Device:
    """The first GPU when one is present, else the CPU."""
    return select_device("cuda" if BACKENDS["cuda"].unavailable() is None else "cpu")


def select_device(text: str | torch.device | Device | None = None, *, option: str = "device") -> Device:
    """'cpu', 'cuda', 'cuda:N' (or None: the default device) as a Device; an unknown kind, an
    absent backend or a device index out of range raises one ValueError naming `option` and the fix."""
    if isinstance(text, Device):
        return text
    if text is None:
        return default_device()
    kind, index = _split(str(text).strip().lower(), option)
    backend = BACKENDS.get(kind)
    if backend is None:
        raise ValueError(f"unknown `{option}` {str(text)!r}; choose one of {', '.join(BACKENDS.names())} "
                         f"(cuda:N for the N-th GPU)")
    reason = backend.unavailable()
    if reason:
        raise ValueError(f"`{option}` {text}: {reason}; use --{option} cpu")
    return Device(backend, _torch_device(backend, index, option))


def _split(text: str, option: str) -> tuple[str, int | None]:
    """'cuda:1' -> ('cuda', 1); 'cpu' -> ('cpu', None)."""
    kind, colon, number = text.partition(":")
    if not colon:
        return kind, None
    if not number.isdigit():
        raise ValueError(f"`{option}` {text!r}: the device index must be a number, e.g. {kind}:0")
    return kind, int(number)


def _torch_device(backend: Backend, index: int | None, option: str) -> torch.device:
    if backend.name == "cpu":
        return torch.device("cpu")  # torch has one CPU device; cpu:N names the same one
    count = backend.count()
    if index is not None and index >= count:
        raise ValueError(f"`{option}` {backend.name}:{index}: this machine has {count} {backend.name} "
                         f"device(s), {backend.name}:0 to {backend.name}:{count - 1}; give one of those")
    return torch.device(backend.torch_type or backend.name, index if index is not None else backend.current_index())


def backend_status() -> list[tuple[str, str, str | None]]:
    """(name, description, why unavailable or None) of every registered backend."""
    return [(name, backend.description, backend.unavailable()) for name, backend in BACKENDS.items()]
