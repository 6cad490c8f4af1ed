"""Operations that count and predict: analyze, roofline, waterline, sweep-batch, calibrate-di,
report, devices, list-models, config.

Each takes a `ModelRequest` (or its own few parameters) and returns a result with to_dict(),
to_rows() and grids(); none prints.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from intensity.cost.reuse import DEFAULT_ALPHA
from intensity.ops._base import (
    MEASURED_DEVICES, ModelRequest, OpResult, Settings, check_default_dtype, resolve_spec,
)
from intensity.progress import Progress

DEFAULT_OP_BYTES = (25.0, 50.0, 100.0, 139.0, 200.0, 300.0, 400.0, 600.0)  # seed 001 Fig. 4's axis
DEFAULT_BATCHES = (1, 4, 16, 64, 256, 1024, 4096)


# --- analyze -------------------------------------------------------------------------------------

@dataclass
class AnalyzeResult(OpResult):
    """Every kernel's flops, bytes, intensity and reuse (a CostReport), on the request's device."""

    report: Any  # CostReport
    top: int | None = None  # the table shows only the N kernels moving the most bytes

    def to_dict(self) -> dict[str, Any]:
        return {**self.report.to_dict(), **_origins(self.settings)}

    def to_rows(self) -> list[dict[str, Any]]:
        from intensity.cost.result import kernel_dict

        return [_joined(kernel_dict(k, self.report.op_byte)) for k in self.report.kernels]

    def grids(self) -> list[Any]:
        from intensity.report.tables import kernel_grid, totals_grid

        return [kernel_grid(self.report, top=self.top), totals_grid(self.report)]


def run_analyze(request: ModelRequest, *, only: Sequence[str] = (), alpha: float = DEFAULT_ALPHA,
                top: int | None = None, threads: int | None = None,
                progress: Progress | None = None) -> AnalyzeResult:
    """Count every kernel of `request.model` (intensity.api.analyze) on the request's device."""
    from intensity.api import analyze

    if top is not None and top < 1:
        raise ValueError(f"`top` must be a positive number of kernels, not {top}")
    resolved, warnings = resolve_spec(request, threads=threads, progress=progress)
    report = analyze(request.model, device=resolved.device, only=list(only), alpha=alpha, **request.analysis_kwargs())
    return AnalyzeResult(report, top, settings=resolved.settings(), notes=list(report.notes), warnings=[*warnings, *getattr(report, "warnings", ())])


def _origins(settings: Settings | None) -> dict[str, str]:
    """Where the dtype and device came from (their values are already keys of the report)."""
    return {"dtype_from": settings.dtype_from, "device_from": settings.device_from} if settings else {}


def _joined(row: dict[str, Any]) -> dict[str, Any]:
    """Shapes as '1x3x50x50' and fused ops as 'relu+add', so a CSV cell holds one value."""
    return {key: ("x".join(map(str, value)) if value and not isinstance(value[0], str) else "+".join(value))
            if isinstance(value, list) else value for key, value in row.items()}


# --- roofline --------------------------------------------------------------------------------

@dataclass
class RooflineResult(OpResult):
    """Per-kernel roofline, the waterline totals and Amdahl's roofline (seed 001) on one device."""

    prediction: Any  # analysis.predict.Prediction

    def to_dict(self) -> dict[str, Any]:
        report, line = self.prediction.report, self.prediction.line
        return {"model": report.model, "batch": report.batch, "fusion": report.fusion, **self.settings_dict(),
                **asdict(line), **self.prediction.bound_and_estimate()}

    def to_rows(self) -> list[dict[str, Any]]:
        return [asdict(k) for k in self.prediction.line.kernels]

    def grids(self) -> list[Any]:
        from intensity.report.tables import bottleneck_grid, estimate_grid, roofline_grid, waterline_grid

        report, line = self.prediction.report, self.prediction.line
        title = f"{report.model}: batch {report.batch}, {report.dtype} on {report.device['name']}, fusion {report.fusion}"
        return [roofline_grid(line, title), waterline_grid(line), estimate_grid(self.prediction),
                bottleneck_grid(line)]


def run_roofline(request: ModelRequest, *, threads: int | None = None,
                 progress: Progress | None = None) -> OpResult:
    """The roofline of every kernel and the waterline of the whole model (seed 001 Eqn 10-14); on
    a `calibrated[:FILE]` device, each kernel's calibrated time beside its roofline time."""
    from intensity.analysis.predict import predict

    resolved, warnings = resolve_spec(request, threads=threads, progress=progress)
    prediction = predict(request.model, device=resolved.device, **request.analysis_kwargs(),
                         **request.estimate_kwargs())
    common = {"settings": resolved.settings(), "notes": list(prediction.report.notes), "warnings": [*warnings, *getattr(prediction.report, "warnings", ())]}
    if prediction.calibrated is not None:
        from intensity.ops.calibrate import CalibratedRooflineResult

        return CalibratedRooflineResult(prediction, **common)
    return RooflineResult(prediction, **common)


# --- waterline over op:byte ratios ---------------------------------------------------------------

@dataclass
class WaterlineResult(OpResult):
    """Seed 001 Fig. 4: waterline vs the roofline of the mediant over processor op:byte ratios."""

    model: str
    batch: int
    fusion: str
    device_op_byte: float  # the request's device's own ratio, added to the axis and marked
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "batch": self.batch, "fusion": self.fusion, **self.settings_dict(),
                "device_op_byte": self.device_op_byte, "rows": self.rows}

    def to_rows(self) -> list[dict[str, Any]]:
        return self.rows

    def grids(self) -> list[Any]:
        from intensity.report.tables import op_byte_grid

        s = self.settings
        title = f"{self.model}: max. computational efficiency, batch {self.batch}, {s.dtype}, fusion {self.fusion}"
        return [op_byte_grid(self.rows, title, self.device_op_byte, s.device)]


def run_waterline(request: ModelRequest, op_bytes: Sequence[float] = DEFAULT_OP_BYTES, *,
                  threads: int | None = None, progress: Progress | None = None) -> WaterlineResult:
    from intensity.analysis.predict import predict
    from intensity.analysis.roofline import efficiency_vs_op_byte

    if not op_bytes or any(not 0 < r < float("inf") for r in op_bytes):
        raise ValueError(f"`op_bytes` must be positive finite ratios (flop/B), e.g. 25,139,600; got {list(op_bytes)}")
    resolved, warnings = resolve_spec(request, threads=threads, progress=progress)
    prediction = predict(request.model, device=resolved.device, **request.analysis_kwargs())
    own = prediction.spec.op_byte(request.dtype)
    rows = [{"op_byte": r, "waterline": w, "mediant": m, "device": prediction.spec.key if r == own else None}
            for r, w, m in efficiency_vs_op_byte(prediction.report.kernels, sorted({*op_bytes, own}))]
    return WaterlineResult(prediction.report.model, request.batch, request.fusion, own, rows,
                           settings=resolved.settings(), notes=list(prediction.report.notes), warnings=warnings)


# --- sweep-batch ---------------------------------------------------------------------------------

@dataclass
class SweepBatchResult(OpResult):
    """Intensity, attainable utilization and predicted throughput per batch (seed 000 Fig. 3)."""

    model: str
    fusion: str
    points: list[Any] = field(default_factory=list)  # analysis.batch_sweep.SweepPoint

    def to_dict(self) -> dict[str, Any]:
        from intensity.analysis.batch_sweep import estimate_label
        from intensity.analysis.predict import BOUND_KIND

        return {"model": self.model, "fusion": self.fusion, **self.settings_dict(),
                "bound": BOUND_KIND, "estimate": estimate_label(self.points) or None,
                "points": [asdict(p) for p in self.points]}

    def to_rows(self) -> list[dict[str, Any]]:
        return [asdict(p) for p in self.points]

    def grids(self) -> list[Any]:
        from intensity.analysis.batch_sweep import estimate_label
        from intensity.report.tables import sweep_grid

        s = self.settings
        return [sweep_grid(self.points, f"{self.model}: {s.dtype} on {s.device}, fusion {self.fusion}",
                           estimate_label(self.points))]


def run_sweep_batch(request: ModelRequest, batches: Sequence[int] = DEFAULT_BATCHES, *,
                    threads: int | None = None, progress: Progress | None = None) -> SweepBatchResult:
    from intensity.analysis.batch_sweep import estimate_label, stopped_note, sweep_batch

    resolved, warnings = resolve_spec(request, threads=threads, progress=progress)
    options = {k: v for k, v in request.analysis_kwargs().items() if k != "batch"}
    points = sweep_batch(request.model, list(batches), device=resolved.device, **options,
                         **request.estimate_kwargs(), progress=progress, until_too_large=True)
    notes = [] if estimate_label(points) else [f"no estimate on {resolved.settings().device}: only GPU specs have "
                                               f"an efficiency profile (--device calibrated estimates a CPU)"]
    notes += filter(None, [stopped_note(points, list(batches))])
    return SweepBatchResult(str(request.model), request.fusion, points, settings=resolved.settings(),
                            notes=notes, warnings=warnings)


# --- calibrate-di --------------------------------------------------------------------------------

@dataclass
class CalibrateDIResult(OpResult):
    """DI's alpha chosen by Pearson r against measured energy efficiency (seed 004)."""

    calibration: Any  # analysis.di_alpha.Calibration

    def to_dict(self) -> dict[str, Any]:
        return self.calibration.to_dict() if hasattr(self.calibration, "to_dict") else asdict(self.calibration)

    def to_rows(self) -> list[dict[str, Any]]:
        return [{"alpha": a, "pearson_r": r} for a, r in self.calibration.curve]

    def grids(self) -> list[Any]:
        from intensity.report.tables import alpha_grids

        return alpha_grids(self.calibration)


def run_calibrate_di(table: str | Path, *, batch: int = 1) -> CalibrateDIResult:
    from intensity.analysis.di_alpha import calibrate_alpha, rows_from_table

    calibration = calibrate_alpha(rows_from_table(str(table), batch))
    return CalibrateDIResult(calibration, warnings=list(getattr(calibration, "warnings", ())))


# --- report --------------------------------------------------------------------------------------

@dataclass
class ReportResult(OpResult):
    """The HTML report written (report.html, report.json, figures/) and its advice."""

    out: str
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"out": self.out, **self.settings_dict(), "advice": self.summary.get("advice", [])}

    def grids(self) -> list[Any]:
        from intensity.report.tables import Grid

        return [Grid(f"report written to {self.out}", ("advice",), [(line,) for line in self.summary.get("advice", [])],
                     ("advice",), header=False)]


def run_report(request: ModelRequest, out: str | Path, *, measurement: Any = None,
               progress: Progress | None = None) -> ReportResult:
    """Analyse, predict (and with `measurement` compare) `request.model`; write the report to `out`."""
    from intensity.output import check_output
    from intensity.report.html import write_report

    target = check_output(out, inputs=request.input_files(), directory=True)
    resolved, warnings = resolve_spec(request, progress=progress)
    summary = write_report(request.model, target, device=resolved.device, dtype=request.dtype, batch=request.batch,
                           fusion=request.fusion, blocks=request.blocks, input_shape=request.input_shape,
                           attention=request.attention, measure=measurement, runtime=request.runtime,
                           profile=request.profile, progress=progress)
    return ReportResult(str(out), summary, settings=resolved.settings(), notes=list(summary.get("notes", [])),
                        warnings=warnings)


# --- devices, list-models, config ------------------------------------------------------------------

@dataclass
class DevicesResult(OpResult):
    specs: list[Any] = field(default_factory=list)  # HardwareSpec

    def to_dict(self) -> dict[str, Any]:
        return {"devices": [asdict(s) for s in self.specs]}

    def to_rows(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self.specs]

    def grids(self) -> list[Any]:
        from intensity.report.tables import devices_grid

        return [devices_grid(self.specs)]


def run_devices() -> DevicesResult:
    from intensity.hardware import list_specs

    return DevicesResult(list_specs())


@dataclass
class ModelsResult(OpResult):
    records: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"models": self.records}

    def to_rows(self) -> list[dict[str, Any]]:
        return self.records

    def grids(self) -> list[Any]:
        from intensity.report.tables import models_grid

        return [models_grid(self.records)]


def run_list_models(pattern: str = "*", *, progress: Progress | None = None) -> ModelsResult:
    """Zoo entries matching `pattern` with their params and flops at batch 1."""
    from intensity.api import analyze
    from intensity.models import model_entries
    from intensity.progress import notify

    entries = model_entries(pattern)
    if not entries:
        raise ValueError(f"no zoo model matches {pattern!r}; run `intensity list-models` for all of them")
    records = []
    for done, entry in enumerate(entries):
        notify(progress, "counting", done, len(entries))
        totals = analyze(entry.name, batch=1).totals
        records.append({"name": entry.name, "family": entry.family, "input_shape": list(entry.input_shape),
                        "num_classes": entry.num_classes, "params": totals.params, "flops": totals.flops})
    return ModelsResult(records)


@dataclass
class ConfigResult(OpResult):
    """The defaults in force (dtype, device) and where each came from."""

    values: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.values)

    def grids(self) -> list[Any]:
        from intensity.report.tables import defaults_grid

        return [defaults_grid(self.values)]


def run_config() -> ConfigResult:
    from intensity.config import defaults

    configured = defaults()
    check_default_dtype(configured.dtype, configured.dtype_from)  # say so here, not on first use
    if configured.device not in MEASURED_DEVICES:  # those are measured on use (seconds), not here
        resolve_spec(ModelRequest(None, dtype=configured.dtype, device=configured.device,
                                  dtype_from=configured.dtype_from, device_from=configured.device_from))
    return ConfigResult(configured.to_dict())
