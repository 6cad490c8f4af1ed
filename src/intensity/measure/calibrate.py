"""Measure a calibration: achieved rates of real PyTorch kernels over a grid of shapes.

Compute kinds (conv 1x1, conv 3x3, depthwise 3x3, linear) over channels x problem size, where a
conv's size is its output pixels (batch x H x W, a few spatial sizes and batches) and a linear's
its rows; memory kinds (in-place ReLU in bytes/s, 3x3 max pool in window reads/s) over bytes moved. Like
torch.utils.benchmark and the micro-benchmarks of hardware/microbench.py: fixed threads, a
warm-up call, then `trials` trials each repeating the call until it lasts `min_seconds`; the best
and median trial are kept. Calls are timed by the device backend (CUDA events on a GPU, wall clock
on the CPU: hardware/backends.py).
Points whose call would exceed a flop budget are skipped, except a row's sizes up to 1024 pixels or
rows (large problems saturate: the rate at a row's largest measured size stands for larger ones).
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from intensity.dtypes import resolve_dtype
from intensity.hardware.backends import Device, select_device
from intensity.hardware.calibration import Calibration, Point, check, machine_description
from intensity.hardware.microbench import benchmark_bandwidth, benchmark_peak
from intensity.hardware.timing import spread
from intensity.progress import Progress, notify


@dataclass(frozen=True)
class Grid:
    channels: tuple[int, ...]
    images: tuple[tuple[int, int], ...]  # (batch, H = W) of conv inputs
    linear_channels: tuple[int, ...]
    rows: tuple[int, ...]
    memory_elements: tuple[int, ...]
    trials: int
    min_seconds: float
    flop_budget: float  # per call; larger points are skipped (but every row keeps its smallest)


FULL = Grid(channels=(4, 8, 16, 32, 64, 128, 256, 512, 1024),
            images=((1, 8), (1, 16), (1, 32), (4, 32), (16, 32), (16, 64), (64, 64)),
            linear_channels=(8, 32, 128, 512, 2048, 4096), rows=(1, 4, 16, 64, 256, 1024, 4096),
            memory_elements=(2**10, 2**12, 2**14, 2**16, 2**18, 2**20, 2**22, 2**24), trials=5, min_seconds=0.05,
            flop_budget=2e9)
QUICK = Grid(channels=(4, 16, 64, 256, 1024), images=((1, 8), (1, 32), (16, 32), (64, 64)),
             linear_channels=(8, 128, 2048), rows=(1, 16, 256, 4096),
             memory_elements=(2**10, 2**16, 2**22), trials=3, min_seconds=0.01, flop_budget=1e9)


@dataclass(frozen=True)
class Case:
    """One grid point to time: a call, its work per call (flops or bytes) and its coordinates."""

    kind: str
    channels: int
    size: int
    work: float
    make: Callable[[], Callable[[], object]]
    batch: int = 1
    spatial: int = 0


def _conv_case(kind: str, c: int, batch: int, s: int, device: torch.device, dtype: torch.dtype) -> Case:
    k = 1 if kind == "conv1x1" else 3
    groups = c if kind == "depthwise" else 1
    per_pixel = 2 * c * (1 if kind == "depthwise" else c) * k * k

    def make() -> Callable[[], object]:
        x = torch.randn(batch, c, s, s, device=device, dtype=dtype)
        w = torch.randn(c, c // groups, k, k, device=device, dtype=dtype)
        return lambda: F.conv2d(x, w, padding=k // 2, groups=groups)

    return Case(kind, c, batch * s * s, per_pixel * batch * s * s, make, batch, s)


def _linear_case(c: int, rows: int, device: torch.device, dtype: torch.dtype) -> Case:
    def make() -> Callable[[], object]:
        x = torch.randn(rows, c, device=device, dtype=dtype)
        w, b = torch.randn(c, c, device=device, dtype=dtype), torch.randn(c, device=device, dtype=dtype)
        return lambda: F.linear(x, w, b)

    return Case("linear", c, rows, 2 * rows * c * c, make, rows)


def _memory_case(kind: str, elements: int, device: torch.device, dtype: torch.dtype) -> Case:
    """Elementwise: an in-place ReLU (as models run it), bytes/s of read + write. Pool: a 3x3
    stride-2 max pool over 32 x 32 planes, in window reads/s (output elements x 9): a CPU max pool
    costs per window element read, not per byte (a 3x3 stride-1 pool takes ~4x a 2x2 stride-2 one)."""
    size = torch.empty((), dtype=dtype).element_size()
    planes = max(1, elements // 1024)
    if kind == "elementwise":
        moved, work = 2 * elements * size, 2 * elements * size
    else:
        moved, work = (planes * 1024 + planes * 225) * size, planes * 225 * 9  # 32 -> 15 per side

    def make() -> Callable[[], object]:
        x = torch.randn(1, planes, 32, 32, device=device, dtype=dtype)
        return (lambda: torch.relu_(x)) if kind == "elementwise" else (lambda: F.max_pool2d(x, 3, 2))

    return Case(kind, 1, int(moved), work, make)


def cases(grid: Grid, device: str | Device = "cpu", dtype: str = "fp32") -> list[Case]:
    """Every point of `grid`, within the flop budget (each row keeps at least its smallest size)."""
    torch_dtype = resolve_dtype(dtype).torch_dtype
    device = select_device(device).torch_device
    result = []
    for kind in ("conv1x1", "conv3x3", "depthwise"):
        for c in grid.channels:
            row = [_conv_case(kind, c, b, s, device, torch_dtype) for b, s in grid.images]
            result += _within_budget(row, grid.flop_budget)
    for c in grid.linear_channels:
        result += _within_budget([_linear_case(c, r, device, torch_dtype) for r in grid.rows], grid.flop_budget)
    for kind in ("elementwise", "pool"):
        result += [_memory_case(kind, n, device, torch_dtype) for n in grid.memory_elements]
    return result


KEEP_SIZE = 1024  # every row keeps its sizes up to this many pixels or rows, whatever the budget


def _within_budget(row: list[Case], budget: float) -> list[Case]:
    """Cases within the flop budget, and always the row's small sizes: a wide conv's rate at 64
    pixels alone would stand (pessimistically) for every larger problem."""
    return [case for i, case in enumerate(row) if i == 0 or case.size <= KEEP_SIZE or case.work <= budget]


def time_case(case: Case, grid: Grid, device: str | Device) -> Point:
    """Warm up, size the trials to `min_seconds`, time `trials` trials; rates from seconds per call."""
    seconds = select_device(device).seconds
    with torch.inference_mode():
        call = case.make()
        call()  # warm-up: allocation, algorithm selection
        repeats = max(1, math.ceil(grid.min_seconds / max(seconds(call, 1), 1e-9)))
        rates = [case.work * repeats / max(seconds(call, repeats), 1e-12) for _ in range(grid.trials)]
    return Point(case.kind, case.channels, case.size, max(rates), statistics.median(rates), spread(rates),
                 case.batch, case.spatial)


def calibrate(device: str | Device = "cpu", dtype: str = "fp32", *, quick: bool = False,
              grid: Grid | None = None, threads: int | None = None,
              progress: Progress | None = None) -> Calibration:
    """Measure the calibration of `device` (cpu, cuda or cuda:N) for `dtype`.

    The robust peak is the best trial of a matmul micro-benchmark and of every compute point;
    the bandwidth is the best trial of a DRAM-sized copy (hardware/microbench.py)."""
    where = select_device(device, option="on")
    grid = grid or (QUICK if quick else FULL)
    todo = cases(grid, where, dtype)
    with where.threads(threads) as used:
        peak = benchmark_peak(dtype, where, trials=grid.trials, threads=used, progress=progress)
        copy = benchmark_bandwidth(where, trials=grid.trials, threads=used, progress=progress)
        points = []
        for done, case in enumerate(todo):
            notify(progress, "kernel grid", done, len(todo))
            points.append(time_case(case, grid, where))
        notify(progress, "kernel grid", len(todo), len(todo))
    best = max([peak.best * 1e12] + [p.best for p in points if p.kind not in ("elementwise", "pool")])
    name = None if where.kind == "cpu" else where.name()
    notes = tuple(t for t in (peak.describe(), copy.describe()))
    return check(Calibration(machine_description(str(where), used, name), resolve_dtype(dtype).name, best,
                             copy.best * 1e9, tuple(points), notes=notes + (("quick grid",) if quick else ())))
