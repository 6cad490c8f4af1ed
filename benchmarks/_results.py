"""Shared by the benchmark scripts (not a benchmark: `make bench-quick` skips files starting with _).

Every full run writes its table to benchmarks/results/ under a header naming the machine, the
torch threads, the date and the load; quick runs (--quick) print to stdout only, so they never
overwrite the committed full results.
"""
from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path

import torch

from intensity.hardware.backends import cpu_model  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def header(threads: int | None, mode: str) -> str:
    """Machine, threads, date and load: the context every recorded figure needs."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return (f"# machine: {socket.gethostname()}, {cpu_model()}, {os.cpu_count()} cores; torch {torch.__version__}, "
            f"{threads if threads is not None else torch.get_num_threads()} thread(s)\n"
            f"# date: {now}; load average (1/5/15 min) at start: {load()}; mode: {mode}\n")


def write(name: str, text: str, quick: bool) -> Path | None:
    """Write a full run's results to benchmarks/results/NAME; quick runs write nothing."""
    if quick:
        return None
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.write_text(text)
    return path
