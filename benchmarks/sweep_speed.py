"""How fast is the analytic sweep of the whole NATS size space, next to tracing every network?

- closed form: `nats_metrics` on all 32768 networks (the ~70 traces that fit the coefficients, then
  the vectorised evaluation), timed cold (fits cleared) per trial;
- tracing: `predicted_metrics` (analyze + waterline) on a seeded sample of networks, extrapolated
  to 32768 — the peer the ratio is taken against;
- Dask: the same closed-form sweep of all 32768 networks through `sweep` on a 2-worker
  LocalCluster (fits computed here, chunks on the workers) beside the local `sweep`, both writing
  a fresh SQLite store.
torch runs with 1 thread (as Dask workers do). Goal (issue 10): the full sweep < 60 s, ideally < 10 s.

Run: .venv/bin/python benchmarks/sweep_speed.py [--quick] [--trials 3] [--sample 40] [--out FILE]
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from intensity.explore import analytic
from intensity.explore.spaces import make_space, nats_arch
from intensity.explore.store import Store
from intensity.explore.sweep import sweep
from intensity.hardware import get_spec

DEVICE, DTYPE = "a100-40gb", "fp16"


def closed_form_seconds(space, spec) -> float:  # noqa: ANN001
    analytic.clear_fits()  # cold: fitting is part of the sweep
    start = time.perf_counter()
    analytic.nats_metrics(space, analytic.all_nats_indices(), spec=spec, dtype=DTYPE, batch=1)
    return time.perf_counter() - start


def tracing_seconds(space, spec, sample: int, seed: int) -> float:  # noqa: ANN001
    """Seconds per network when tracing, times 32768."""
    indices = random.Random(seed).sample(range(space.size), sample)
    start = time.perf_counter()
    for index in indices:
        analytic.predicted_metrics(space, nats_arch(index), device=spec, dtype=DTYPE, batch=1)
    return (time.perf_counter() - start) / sample * space.size


def store_sweep_seconds(space, workers: int | None) -> float:  # noqa: ANN001
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        with Store(Path(folder) / "r.db", space.key) as store:
            result = sweep(space, store, device=DEVICE, dtype=DTYPE, method="closed-form", workers=workers)
        assert result.added == space.size
        return time.perf_counter() - start


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 trial, 10 traced networks")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--sample", type=int, default=40, help="networks traced for the extrapolation")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()
    trials, sample = (1, 10) if args.quick else (args.trials, args.sample)
    torch.set_num_threads(1)
    space, spec = make_space("nats-size"), get_spec(DEVICE, DTYPE)
    load = os.getloadavg()
    closed = [closed_form_seconds(space, spec) for _ in range(trials)]
    traced = [tracing_seconds(space, spec, sample, seed) for seed in range(trials)]
    rows = [("tracing every network with analyze (extrapolated)", traced, "1.00x (peer)"),
            ("closed form, cold (fits + evaluation)", closed,
             f"{statistics.median(traced) / statistics.median(closed):.0f}x faster")]
    analytic.nats_fits("cifar10", 1, DTYPE)  # the store sweeps below reuse warm fits
    local = [store_sweep_seconds(space, None) for _ in range(trials)]
    rows.append(("sweep -> SQLite store, local (warm fits)", local, "1.00x (Dask's peer)"))
    if not args.no_dask:
        dask = [store_sweep_seconds(space, 2) for _ in range(trials)]
        rows.append(("sweep -> SQLite store, Dask LocalCluster 2 workers", dask,
                     f"{statistics.median(local) / statistics.median(dask):.2f}x vs local"))
    table = Table(title=f"NATS size space, 32768 networks, {DEVICE} {DTYPE} batch 1: seconds, median "
                        f"(min-max) of {trials} trial(s); torch threads 1; tracing sample {sample}")
    for column in ("what", "seconds", "ratio"):
        table.add_column(column)
    for what, values, ratio in rows:
        table.add_row(what, _spread(values), ratio)
    console = Console(record=True, width=140)
    console.print(table)
    console.print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
                  f"{os.cpu_count()} cores; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
                  f"after {os.getloadavg()[0]:.2f}; {datetime.datetime.now():%Y-%m-%d %H:%M}; numpy {np.__version__}")
    if args.out:
        args.out.write_text(console.export_text())


if __name__ == "__main__":
    main()
