"""The largest batch that fits (seed 003 runs each CNN at the largest batch that fits in memory).

`largest_batch` doubles the batch until a run fails, then bisects between the last success and
the first failure. On CUDA a run fails with an out-of-memory error; on the CPU, where running out
of memory would take the machine down, a batch fits when an estimate of its peak memory, the
weights plus the largest kernel's input and output under the given dtype, stays within a budget.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

from intensity.api import analyze
from intensity.dtypes import resolve_dtype
from intensity.hardware.backends import Device, select_device
from intensity.progress import Progress, notify

SEARCH = "searching the largest batch"


def largest_batch(fits: Callable[[int], bool], limit: int = 1 << 16,
                  progress: Progress | None = None) -> int:
    """Largest batch in [1, limit] for which `fits` holds (0 if batch 1 does not fit).

    `progress(SEARCH, tries, total)` after every try: total is None while doubling (the count is
    unknown), then the tries so far plus the bisection steps left; it ends with tries == total."""
    if limit < 1:
        raise ValueError(f"the batch `limit` must be at least 1, got {limit}")
    notify(progress, SEARCH, 0, None)
    good, bad, tries = _doubling(fits, limit, progress)
    while bad - good > 1:  # bisect between the last fit and the first failure
        middle = (good + bad) // 2
        good, bad = (middle, bad) if fits(middle) else (good, middle)
        tries += 1
        notify(progress, SEARCH, tries, tries + _steps_left(good, bad))
    notify(progress, SEARCH, tries, tries)
    return good


def _doubling(fits: Callable[[int], bool], limit: int, progress: Progress | None) -> tuple[int, int, int]:
    """(last batch that fit or 0, first that did not or limit + 1, tries) over 1, 2, 4, ..."""
    good, tries = 0, 0
    while max(1, good * 2) <= limit:
        candidate = max(1, good * 2)
        fitted = fits(candidate)
        tries += 1
        notify(progress, SEARCH, tries, None)
        if not fitted:
            return good, candidate, tries
        good = candidate
    return good, limit + 1, tries


def _steps_left(good: int, bad: int) -> int:
    """Bisection steps still needed to close (good, bad)."""
    return math.ceil(math.log2(bad - good)) if bad - good > 1 else 0


def cuda_fits(model: torch.nn.Module, input_shape: tuple[int, ...], dtype: torch.dtype,
              device: str | Device = "cuda") -> Callable[[int], bool]:
    """Fits when one inference of the batch runs on GPU `device` without running out of memory."""
    where = select_device(device)
    model = model.eval().to(where.torch_device, dtype)

    def fits(batch: int) -> bool:
        try:
            with torch.inference_mode():
                model(torch.empty(batch, *input_shape, device=where.torch_device, dtype=dtype))
            where.synchronize()
            return True
        except torch.OutOfMemoryError:
            return False
        finally:
            torch.cuda.empty_cache()

    return fits


def estimated_fits(model: torch.nn.Module | str, input_shape: tuple[int, ...], dtype: str,
                   budget_bytes: float) -> Callable[[int], bool]:
    """Fits when weights + the largest kernel's input and output stay within `budget_bytes`."""
    if budget_bytes <= 0:
        raise ValueError(f"the memory budget must be positive (`memory_gb`), got {budget_bytes / 1e9} GB")

    def fits(batch: int) -> bool:
        report = analyze(model, batch=batch, input_shape=input_shape, dtype=dtype, fusion="none")
        live = max((k.input_bytes + k.output_bytes for k in report.kernels), default=0)
        return report.totals.params * resolve_dtype(dtype).bytes + live <= budget_bytes

    return fits
