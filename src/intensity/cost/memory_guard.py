"""A guard on the real-tensor capture: stop it before it exhausts this machine's memory.

Meta and fake tensors allocate nothing, but a model with data-dependent ops (detection models:
`nonzero`, `nms`) is counted on real tensors, whose memory grows with the batch: torchvision's
Faster R-CNN takes about 120 MB per 800x800 image, so batch 256 needs some 30 GB, partly in
single allocations of several GB. Without a guard the kernel's OOM killer ends the process (and
maybe others) minutes later, with no message. So while the real run lasts, the process's address
space may grow by at most a share of the memory available when it started (RLIMIT_AS): an
allocation past it fails at once, and the guard turns that failure into `TooLargeError`.
Inputs that alone exceed the share are refused before they are allocated. Linux only (/proc);
elsewhere the guard does nothing. Only runs on the CPU are guarded: a model on an accelerator
fills its own memory, which fails with a plain out-of-memory error instead of the OOM killer.
"""
from __future__ import annotations

from pathlib import Path
from types import TracebackType

from intensity.errors import TooLargeError
from intensity.validate import human_bytes

SHARE = 0.8  # of the memory available at the start; the rest stays for everything else
_PAGE = 4096
_FAILED_ALLOCATION = ("can't allocate memory", "cannot allocate memory", "out of memory")


def _virtual_bytes() -> int | None:
    """This process's address space (bytes), from /proc/self/statm; None where there is none."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[0]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _available_bytes() -> int | None:
    """Memory the system can give without swapping (MemAvailable, bytes); None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class MemoryGuard:
    """`with MemoryGuard(what):` around a real-tensor run; `check_inputs` before allocating them."""

    def __init__(self, what: str) -> None:
        self.what = what  # e.g. "an input of shape (256, 3, 800, 800)"
        self.available = _available_bytes()
        self.limit = None if self.available is None else int(self.available * SHARE)
        self._restore: tuple[int, int] | None = None

    def check_inputs(self, nbytes: int) -> None:
        """Refuse, before allocating them, inputs that alone outgrow the run's share."""
        if self.limit is not None and nbytes > self.limit:
            raise TooLargeError(f"counting on real tensors {_WHY} needs {self.what}, which alone takes "
                                f"{human_bytes(nbytes)}, more than {self._room()}; {_FIX}")

    def __enter__(self) -> MemoryGuard:
        start = _virtual_bytes()
        if self.limit is None or start is None:
            return self
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = start + self.limit
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        if soft == resource.RLIM_INFINITY or wanted < soft:
            resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
            self._restore = (soft, hard)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._restore is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, self._restore)
            self._restore = None
        if error is not None and _failed_allocation(error):
            raise TooLargeError(f"counting on real tensors {_WHY} on {self.what} ran out of room: it needs "
                                f"more than {self._room()}; {_FIX}") from None

    def _room(self) -> str:
        return f"{SHARE:.0%} of the memory this machine had available ({human_bytes(self.available or 0)})"


def _failed_allocation(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, MemoryError) or any(words in text for words in _FAILED_ALLOCATION)


_WHY = "(the model's ops are data-dependent, so meta and fake tensors could not run it)"
_FIX = "give a smaller `batch` or `input_shape`"
