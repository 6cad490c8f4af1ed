"""Progress callbacks: how a long library call says how far it is, without printing.

The library never prints (only cli.py and report/ do), so measurements, batch searches and
micro-benchmarks take an optional `progress` callable and call it as

    progress(description, completed, total)

- `description`: what is running now, e.g. "cpu fp32 matmul peak"; a new description starts a
  new stage (a CLI shows one bar per description);
- `completed`: steps done in that stage (0 when it starts, `total` when it ends);
- `total`: steps in the stage, or None when unknown in advance (the doubling of a batch search).

Steps are small enough (one timed iteration, one trial, one bisection step) that a caller hears
from the library every few seconds at most. The callback must be cheap: it may run between timed
iterations.
"""
from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, description: str, completed: int, total: int | None) -> None: ...


def notify(progress: Progress | None, description: str, completed: int, total: int | None) -> None:
    """Call `progress` when one was given (the library's one way to report progress)."""
    if progress is not None:
        progress(description, completed, total)
