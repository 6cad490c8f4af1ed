"""The largest batch that fits (seed 003 runs each CNN at the largest batch that fits in memory).

`largest_batch` doubles the batch until a run fails, then bisects between the last success and
the first failure. On CUDA a run fails with an out-of-memory error; on the CPU, where running out
of memory would take the machine down, a batch fits when an estimate of its peak memory, the
weights plus the largest kernel's input and output under the given dtype, stays within a budget.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from intensity.api import analyze
from intensity.dtypes import resolve_dtype


def largest_batch(fits: Callable[[int], bool], limit: int = 1 << 16) -> int:
    """Largest batch in [1, limit] for which `fits` holds (0 if batch 1 does not fit)."""
    if not fits(1):
        return 0
    good = 1
    while good * 2 <= limit and fits(good * 2):
        good *= 2
    bad = min(good * 2, limit + 1)
    while bad - good > 1:
        middle = (good + bad) // 2
        good, bad = (middle, bad) if fits(middle) else (good, middle)
    return good


def cuda_fits(model: torch.nn.Module, input_shape: tuple[int, ...], dtype: torch.dtype) -> Callable[[int], bool]:
    model = model.eval().cuda().to(dtype)

    def fits(batch: int) -> bool:
        try:
            with torch.inference_mode():
                model(torch.empty(batch, *input_shape, device="cuda", dtype=dtype))
            torch.cuda.synchronize()
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
        raise ValueError("the memory budget must be positive")

    def fits(batch: int) -> bool:
        report = analyze(model, batch=batch, input_shape=input_shape, dtype=dtype, fusion="none")
        live = max((k.input_bytes + k.output_bytes for k in report.kernels), default=0)
        return report.totals.params * resolve_dtype(dtype).bytes + live <= budget_bytes

    return fits
