"""Timing hygiene shared by the micro-benchmarks and the throughput measurements.

- a fixed torch thread count for the duration of a measurement (set, then restored);
- the spread of repeated trials, (max - min) / median, and the `busy` verdict.

Why 10% (a rule of thumb): timer resolution, cache and clock-frequency jitter alone move repeated
trials of the same work by a few percent; a spread above 10% says something else took the cores
or the memory bus during the run, so the figure should be taken again on a quieter machine. On
this project's shared 2-core machine, under a load average of 5-7, trials spread 11-100%.
"""
from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

BUSY_SPREAD = 0.10  # (max - min) / median of trials above this: the machine was busy


@contextmanager
def fixed_threads(threads: int | None) -> Iterator[int]:
    """Run the block with `threads` torch threads (None: the current setting); yields the count."""
    previous = torch.get_num_threads()
    if threads is not None and threads <= 0:
        raise ValueError(f"`threads` must be a positive number, got {threads}; omit it to keep "
                         f"torch's current setting ({previous})")
    torch.set_num_threads(threads or previous)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)


def spread(values: Sequence[float]) -> float:
    """(max - min) / median: 0 when every trial agrees, 0.1 when they span 10% of the median."""
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle > 0 else 0.0


def busy_warning(what: str, values: Sequence[float], threads: int) -> str:
    """A warning when the trials disagree by more than BUSY_SPREAD, else ''."""
    width = spread(values)
    if width <= BUSY_SPREAD:
        return ""
    return (f"{what}: trials spread {width:.0%} (> {BUSY_SPREAD:.0%}) with {threads} thread(s): the "
            f"machine was busy; close other work or measure again, and treat the figure with care")


@dataclass(frozen=True)
class Benchmark:
    """One micro-benchmark: the best of its trials, every trial, and how much they agreed."""

    what: str  # e.g. "cpu fp32 matmul peak"
    unit: str  # "TFLOP/s" or "GB/s"
    best: float
    trials: tuple[float, ...]
    threads: int
    seconds_per_trial: float

    @property
    def spread(self) -> float:
        return spread(self.trials)

    @property
    def busy(self) -> bool:
        return self.spread > BUSY_SPREAD

    @property
    def warning(self) -> str:
        return busy_warning(self.what, self.trials, self.threads)

    def describe(self) -> str:
        """One line: best, spread and thread count."""
        return (f"{self.what} {self.best:.4g} {self.unit} (best of {len(self.trials)} trials of "
                f"~{self.seconds_per_trial:.2f} s, spread {self.spread:.0%}, {self.threads} thread(s))")
