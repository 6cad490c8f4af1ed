"""Operations of the folding commands: fold (predict), bench-fold (measure), scale (compound
scaling, the baseline of seed 000 5.3) and cascade (App. G). Typed request in, typed result out."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from intensity.ops._base import ModelRequest, OpResult, Progress, Settings, TimingOptions, device_name, resolve_spec


def _factors(factors: Sequence[int]) -> list[int]:
    if not factors or any(isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in factors):
        raise ValueError(f"folding factors `factors` must be integers >= 1, got {list(factors)}; give e.g. -f 2,3,4")
    return list(factors)


def _input_shape(request: ModelRequest) -> tuple[int, ...] | None:
    from intensity.api import parse_input_shape

    return None if request.input_shape is None else parse_input_shape(request.input_shape)


# --- fold -----------------------------------------------------------------------------------------
@dataclass
class FoldResult(OpResult):
    model: str = ""
    predictions: list = field(default_factory=list)  # analysis.folding.FoldPrediction

    def to_dict(self) -> dict[str, Any]:
        from intensity.analysis.predict import BOUND_KIND, estimate_kind

        first = self.predictions[0] if self.predictions else None
        estimate = estimate_kind(first.estimate_runtime, first.estimate_profile) if first else ""
        return {"model": self.model, **self.settings_dict(), "bound": BOUND_KIND, "estimate": estimate or None,
                "predictions": self.to_rows()}

    def to_rows(self) -> list[dict[str, Any]]:
        return [{**asdict(p), "speedup": p.speedup, "estimated_speedup": p.estimated_speedup,
                 "intensity_ratio": p.intensity_ratio} for p in self.predictions]

    def grids(self) -> list[Any]:
        from intensity.report.folding import fold_grids

        return fold_grids(self.model, self.predictions, self.settings.device, self.settings.dtype)


def run_fold(request: ModelRequest, factors: Sequence[int] = (2, 3, 4), rounding: str = "floor",
             progress: Progress | None = None) -> FoldResult:
    """Predict what folding by each f buys, per layer and in total, before training (seed 000)."""
    from intensity.analysis.folding import predict_folding

    fs = _factors(factors)
    request, warnings = resolve_spec(request, progress=progress)
    predictions = predict_folding(request.model, fs, batch=request.batch, dtype=request.dtype,
                                  device=request.device, fusion=request.fusion, rounding=rounding,
                                  input_shape=_input_shape(request), **request.estimate_kwargs())
    notes = list(dict.fromkeys(text for p in predictions for text in p.notes))
    return FoldResult(str(request.model), predictions, settings=request.settings(), notes=notes, warnings=warnings)


# --- bench-fold -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchFoldRequest(TimingOptions):
    """`model.device` is the spec whose peak the utilization is taken against (`measured`: this
    machine); `on` is where the models run (TimingOptions: how they are timed)."""

    model: ModelRequest
    factors: tuple[int, ...] = (2, 3, 4)
    runtime: str = "torch"  # the inference engine timed: torch (eager) or onnxruntime


@dataclass
class BenchFoldResult(OpResult):
    model: str = ""
    on: str = "cpu"
    results: list = field(default_factory=list)  # measure.folding.FoldBenchmark

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "on": self.on, **self.settings_dict(), "results": self.to_rows()}

    def to_rows(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.results]

    def grids(self) -> list[Any]:
        from intensity.report.folding import bench_fold_grid

        batch = self.results[0].batch if self.results else "-"
        return [bench_fold_grid(f"{self.model}: measured, batch {batch}, {self.settings.dtype} on {self.on}",
                                self.results)]


def run_bench_fold(request: BenchFoldRequest, progress: Progress | None = None) -> BenchFoldResult:
    """Measure original vs folded throughput at the same images per step (seed 000 5)."""
    from intensity.hardware import get_spec
    from intensity.measure.folding import bench_folding
    from intensity.models import resolve_model

    r, m = request, request.model
    fs = _factors(r.factors)
    if progress:
        progress("building the model", 0, None)
    resolved = resolve_model(m.model)
    spec = get_spec(m.device, m.dtype, m.peak_tflops, m.bandwidth_gbs, threads=r.threads, progress=progress)
    results = bench_folding(resolved.module, _input_shape(m) or resolved.input_shape, fs, batch=m.batch,
                            device=r.on, dtype=m.dtype, peak_flops=spec.peak_flops(m.dtype), iters=r.iters,
                            trials=r.trials, channels_last=r.channels_last, compile=r.compile, threads=r.threads,
                            progress=progress, runtime=r.runtime)
    warnings = list(getattr(spec, "warnings", ()))
    if any(b.busy for b in results):
        warnings.append("trials spread more than 10%: the machine was busy; measure again before comparing speedups")
    warnings += _above_peak(results, spec, r.runtime)
    settings = Settings(m.dtype, device_name(spec), m.dtype_from, m.device_from)
    return BenchFoldResult(str(m.model), r.on, results, settings=settings, warnings=warnings)


def _above_peak(results: Sequence[Any], spec: Any, runtime: str) -> list[str]:
    """A utilization above 100% is never printed silently: the peak it is taken against is too low."""
    from intensity.measure.measurement import above_peak_warning

    over = [b for b in results if b.utilization > 1]
    if not over:
        return []
    worst = max(over, key=lambda b: b.utilization)
    if runtime != "torch" and getattr(spec, "benchmarks", ()):
        return [f"utilization {worst.utilization:.0%} (f = {worst.f}) is above 100%: the peak of {spec.key} is "
                f"torch's matmul micro-benchmark and {runtime}'s kernels outran it; compare the speedups, and read "
                f"utilization against a peak you trust (--peak-tflops)"]
    return list(above_peak_warning(worst.utilization, spec))


# --- scale ----------------------------------------------------------------------------------------
@dataclass
class ScaleResult(OpResult):
    model: str = ""
    phi: float = 0.0
    rows: list[dict] = field(default_factory=list)  # original, then scaled

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "phi": self.phi, **self.settings_dict(), "rows": self.rows}

    def to_rows(self) -> list[dict[str, Any]]:
        return self.rows

    def grids(self) -> list[Any]:
        from intensity.report.folding import scale_grid

        s = self.settings
        batch = self.rows[0]["batch"] if self.rows else "-"
        return [scale_grid(f"{self.model}: compound scaling on {s.device}, {s.dtype}, batch {batch}", self.rows)]


def run_scale(request: ModelRequest, phi: float = -1.0, progress: Progress | None = None) -> ScaleResult:
    """EfficientNet compound scaling (depth alpha^phi, width beta^phi, resolution gamma^phi): the
    model and its scaled variant analysed side by side (on meta: no weights allocated)."""
    from intensity.models import resolve_model
    from intensity.transforms.scaling import compound_scale

    request, warnings = resolve_spec(request, progress=progress)
    resolved = resolve_model(request.model, meta=True)
    shape = _input_shape(request) or resolved.input_shape
    scaled = compound_scale(resolved.module, shape, phi, meta=True)
    rows = [_scale_row("original", resolved.module, shape, request),
            _scale_row(f"phi={phi:g}", scaled.model, scaled.input_shape, request)]
    return ScaleResult(str(request.model), phi, rows, settings=request.settings(), notes=list(scaled.notes),
                       warnings=warnings)


def _scale_row(label: str, module: Any, shape: Sequence[int], request: ModelRequest) -> dict:
    from intensity.analysis.predict import predict

    p = predict(module, device=request.device, dtype=request.dtype, batch=request.batch, input_shape=tuple(shape),
                fusion=request.fusion)
    totals = p.report.totals
    return {"model": label, "input_shape": list(shape), "batch": request.batch, "params": totals.params,
            "flops_per_image": totals.flops / request.batch, "intensity": totals.intensity,
            "utilization": p.utilization, "images_per_s": p.images_per_s}


# --- cascade --------------------------------------------------------------------------------------
@dataclass
class CascadeResult(OpResult):
    speedup: float = 0.0
    accuracy_drop: float = 0.0
    break_even: float = 0.0  # the largest T_g / T_s for which the cascade gets faster
    relative_cost: float | None = None
    verdict: str | None = None  # faster or slower, with relative_cost

    def to_dict(self) -> dict[str, Any]:
        return {"speedup": self.speedup, "accuracy_drop": self.accuracy_drop, "break_even": self.break_even,
                "relative_cost": self.relative_cost, "verdict": self.verdict}

    def grids(self) -> list[Any]:
        from intensity.report.folding import cascade_grid

        return [cascade_grid(self.to_dict())]


def run_cascade(speedup: float, accuracy_drop: float, relative_cost: float | None = None) -> CascadeResult:
    """Seed 000 App. G: does a faster but less accurate filter speed up a filter -> general-CNN
    cascade? It does while T_g / T_s < (1 - 1/x) / a."""
    from intensity.transforms.folding import cascade_break_even

    if not speedup > 1:
        raise ValueError(f"`speedup` {speedup:g}: a folded CNN that is not faster (x <= 1) can never "
                         f"speed up the cascade; give the measured gain, e.g. --speedup 2.5")
    if relative_cost is not None and not (relative_cost > 0 and math.isfinite(relative_cost)):
        raise ValueError(f"`relative_cost` must be a finite positive number (T_g / T_s), got {relative_cost:g}")
    limit = cascade_break_even(speedup, accuracy_drop)
    verdict = None if relative_cost is None else ("faster" if relative_cost < limit else "slower")
    return CascadeResult(speedup, accuracy_drop, limit, relative_cost, verdict)
