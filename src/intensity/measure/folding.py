"""Measured speedup of FoldedCNNs: the same images per second, batch N vs ceil(N / f).

For each f the folded model runs twice: on already-folded input (the kernels alone) and wrapped
in FoldedModel (including fold_inputs / unfold_outputs), so the reshape cost is visible.
Utilization uses each model's own flops per image (folded inner layers do the same work).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from intensity.api import analyze
from intensity.measure.throughput import utilization
from intensity.progress import Progress
from intensity.transforms.folding import FoldedModel, check_factor, fold


@dataclass(frozen=True)
class FoldBenchmark:
    f: int
    batch: int  # images per step (the folded model runs ceil(batch / f) folded inputs)
    images_per_s: float  # folded kernels alone
    images_per_s_with_reshape: float  # FoldedModel: fold, run, unfold
    utilization: float
    speedup: float  # vs f = 1
    speedup_with_reshape: float
    spread: float = 0.0  # the wider of the two timings' trial spreads
    busy: bool = False  # that spread says the machine was busy: compare with care


def bench_folding(model: torch.nn.Module, input_shape: tuple[int, ...], fs: Sequence[int], *, batch: int = 1024,
                  device: str = "cpu", dtype: str = "fp32", peak_flops: float, iters: int = 10, trials: int = 3,
                  channels_last: bool = False, compile: bool = False, threads: int | None = None,
                  progress: Progress | None = None, runtime: str = "torch") -> list[FoldBenchmark]:
    """Throughput and utilization of `model` folded by each f (f = 1 is the original).

    `progress` hears every timed batch of every model (see intensity.progress). `runtime`:
    torch (eager) or onnxruntime (each model exported to ONNX, CPU fp32; see measure/onnx_runtime)."""
    from intensity.measure.onnx_runtime import runtime_throughput

    options = {"device": device, "dtype": dtype, "iters": iters, "trials": trials,
               "channels_last": channels_last, "compile": compile, "threads": threads,
               "progress": progress, "runtime": runtime}
    results, baseline = [], None
    for f in sorted({1, *map(check_factor, fs)}):
        folded = fold(model, f, input_shape).model
        folded_shape = (input_shape[0] * f, *input_shape[1:])
        groups = -(-batch // f)
        kernels = runtime_throughput(folded, groups, folded_shape, **options)
        wrapped = runtime_throughput(FoldedModel(folded, f, input_shape[0]), batch, input_shape, **options)
        per_image = analyze(folded, batch=1, input_shape=folded_shape).totals.flops / f
        rate = kernels.images_per_s * f  # each folded input carries f images
        baseline = baseline or (rate, wrapped.images_per_s)
        results.append(FoldBenchmark(f, batch, rate, wrapped.images_per_s, utilization(rate, per_image, peak_flops),
                                     rate / baseline[0], wrapped.images_per_s / baseline[1],
                                     max(kernels.spread, wrapped.spread), kernels.busy or wrapped.busy))
    return results
