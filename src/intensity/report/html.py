"""The self-contained HTML report: findings, figures with how-to-read notes, and labelled tables.

`write_report` analyses a model, predicts it on a device (roofline, waterline, batch sweep),
optionally shows a measurement taken on this machine, and writes DIR/report.html (figures
embedded, no network), DIR/report.json and the figures as PNG and SVG under DIR/figures/.
Every figure and table says which device, dtype and batch it is for, because a report may put a
CPU fp32 measurement next to an accelerator fp16 prediction.
"""
from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from intensity.analysis.advice import advice
from intensity.analysis.predict import Prediction, predict
from intensity.analysis.roofline import amdahl_speedups, efficiency_vs_op_byte
from intensity.analysis.batch_sweep import SweepPoint, estimate_label, stopped_note, sweep_batch
from intensity.output import check_output, write_atomic
from intensity.progress import Progress
from intensity.report import plots
from intensity.report.page import PAGE, READING
from intensity.report.tables import (Grid, bottleneck_grid, estimate_grid, kernel_grid, measurement_grid, milliseconds,
                                     number, percent, si, sweep_grid, totals_grid, uncounted_grid, waterline_grid)

__all__ = ["advice", "prepare_directory", "measurement_record", "write_report"]

SWEEP_BATCHES = (1, 4, 16, 64, 256, 1024, 4096)
OP_BYTES = tuple(range(5, 601, 5))  # seed 001 Fig. 4's range of processor op:byte ratios
# Fields a measurement record must have to be shown (Measurement.to_dict()).
MEASURED_KEYS = ("model", "device", "dtype", "batch", "images_per_s", "images_per_s_min", "images_per_s_max",
                 "spec", "peak_tflops", "flops_per_image", "utilization", "ideal_latency", "actual_latency",
                 "efficiency", "log_gap")


@dataclass(frozen=True)
class _Context:
    """What every section needs: the prediction, its target label and the measurement (if any)."""

    prediction: Prediction
    sweep: list[SweepPoint]
    measured: dict | None
    target: str  # "NVIDIA V100 SXM2, fp16, batch 1024": what every predicted figure is for


def write_report(model: str | torch.nn.Module, out: str | Path, *, device: str = "h100", dtype: str = "fp16",
                 batch: int = 256, fusion: str = "trivial", blocks: tuple[str, ...] = (),
                 input_shape: str | Sequence[int] | None = None, measure: Any = None,
                 attention: str = "flash", runtime: str = "eager", profile: str | None = None,
                 progress: Progress | None = None) -> dict[str, Any]:
    """Analyse, predict and report on `model`; return the summary written to report.json.

    `measure` is a `Measurement` (intensity.measure.measurement) or its `to_dict()` record. `out` is
    a directory, created when missing; files already in it other than the report's own are kept.
    """
    directory = prepare_directory(out)
    measured = measurement_record(measure)
    options = {"fusion": fusion, "blocks": blocks, "input_shape": input_shape, "attention": attention}
    estimates = {"runtime": runtime, "profile": profile}
    prediction = predict(model, device=device, dtype=dtype, batch=batch, **options, **estimates)
    sweep = sweep_batch(model, SWEEP_BATCHES, device=prediction.spec, dtype=dtype, **options, **estimates,
                        until_too_large=True, progress=progress)
    context = _Context(prediction, sweep, measured, _target(prediction))
    _make_directory(directory)
    images = _figures(context, directory)
    summary = _summary(context, images)
    if stopped := stopped_note(sweep, SWEEP_BATCHES):
        summary["notes"] = [*summary.get("notes", []), stopped]
    write_atomic(directory / "report.html", _page(context, summary["advice"], images, directory))
    write_atomic(directory / "report.json", json.dumps(summary, indent=2, default=str))
    return summary


# --- the output directory: checked before any work, so a bad --out costs nothing ---------------------

def prepare_directory(out: str | Path) -> Path:
    """Check that `out` can be the report directory (intensity.output); raise ValueError naming the
    path and the fix."""
    return check_output(out, option="`out`", directory=True)


def _make_directory(path: Path) -> None:
    try:
        (path / "figures").mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create report directory {path} ({error.strerror or error}); choose a "
                         f"writable `out` directory") from None


# --- the measurement record ---------------------------------------------------------------------------

def measurement_record(measure: Any) -> dict | None:
    """A Measurement or its `to_dict()` record, as a flat dict; ValueError naming missing fields."""
    if measure is None:
        return None
    record = measure.to_dict() if hasattr(measure, "to_dict") else measure
    if not isinstance(record, dict):
        raise ValueError(f"measure must be a Measurement or its to_dict() record, got {type(measure).__name__}; "
                         f"build one with intensity.measure.measurement.measure_model")
    missing = [key for key in MEASURED_KEYS if key not in record]
    if missing:
        raise ValueError(f"the measurement record lacks {', '.join(missing)}: pass Measurement.to_dict() "
                         f"from intensity.measure.measurement.measure_model")
    return dict(record)


def _measured_label(record: dict) -> str:
    return f"{record['device']}, {record['dtype']}, batch {record['batch']}"


def _mismatches(context: _Context, record: dict) -> list[str]:
    """How the measurement differs from the prediction (device, dtype, batch)."""
    report, spec = context.prediction.report, context.prediction.spec
    found = []
    if record["spec"] != spec.key:
        found.append(f"device ({record['device']} here vs {report.device['description']} predicted)")
    if record["dtype"] != report.dtype:
        found.append(f"dtype ({record['dtype']} vs {report.dtype})")
    if record["batch"] != report.batch:
        found.append(f"batch ({record['batch']} vs {report.batch})")
    return found


# --- figures ------------------------------------------------------------------------------------------

def _target(prediction: Prediction) -> str:
    report = prediction.report
    return f"{report.device['description']}, {report.dtype}, batch {report.batch}"


def _figures(context: _Context, directory: Path) -> dict[str, dict[str, str]]:
    """Draw and save every figure; return paths relative to the report directory."""
    report, line = context.prediction.report, context.prediction.line
    name, target = report.model, context.target
    figures = {
        "roofline": plots.roofline_figure(line, f"{name}: roofline ({target})"),
        "waterline": plots.waterline_figure(line, f"{name} ({target})"),
        "efficiency_vs_op_byte": plots.op_byte_figure(
            efficiency_vs_op_byte(report.kernels, OP_BYTES),
            f"{name}: waterline vs mediant ({report.dtype}, batch {report.batch})", line.op_byte),
        "batch_sweep": plots.sweep_figure(context.sweep, f"{name} vs batch ({report.device['description']}, "
                                                         f"{report.dtype})"),
        "traffic": plots.traffic_figure(report, f"{name}: DRAM traffic per kernel ({report.dtype}, "
                                                f"batch {report.batch})"),
    }
    measured = context.measured
    if measured and measured.get("accuracy") is not None:  # the gap figure's y axis is accuracy
        figures["efficiency_gap"] = plots.gap_figure(
            [measured], f"{name}: measured efficiency gap ({_measured_label(measured)})")
    saved = {key: plots.save(figure, directory / "figures", key) for key, figure in figures.items()}
    return {key: {kind: Path(path).relative_to(directory).as_posix() for kind, path in paths.items()}
            for key, paths in saved.items()}


def _image(directory: Path, relative: str, alt: str) -> str:
    data = base64.b64encode((directory / relative).read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _figure(directory: Path, images: dict, key: str, caption: str) -> str:
    if key not in images:
        return ""
    return (f'<figure>{_image(directory, images[key]["png"], caption)}'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


# --- tables -------------------------------------------------------------------------------------------

def _table(grid: Grid, caption: str = "", classes: str = "") -> str:
    """A Grid as an HTML table: text columns left, numbers right, 'memory' bound as a red badge."""
    head = "".join(f'<th class="{_align(grid, c)}">{html.escape(c)}</th>' for c in grid.columns)
    body = "".join("<tr>" + "".join(_cell(grid, c, v) for c, v in zip(grid.columns, row)) + "</tr>"
                   for row in grid.rows)
    note = caption or grid.caption
    caption_html = f"<caption>{html.escape(note)}</caption>" if note else ""
    return (f'<div class="table-wrap"><table class="{classes}">{caption_html}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _align(grid: Grid, column: str) -> str:
    return "text" if column in grid.left else "num"


def _cell(grid: Grid, column: str, value: str) -> str:
    text = html.escape(value)
    if column == "bound":
        text = f'<span class="badge {value}">{text}</span>'
    elif column.startswith("kernel"):
        text = f"<code>{text}</code>"
    return f'<td class="{_align(grid, column)}">{text}</td>'


def _pairs(grid: Grid) -> str:
    """A two-column metric/value grid as a definition table (no header row)."""
    rows = "".join(f'<tr><th scope="row">{html.escape(k)}</th><td class="num">{html.escape(v)}</td></tr>'
                   for k, v in grid.rows)
    return f'<div class="table-wrap"><table class="pairs"><tbody>{rows}</tbody></table></div>'


# --- the page -----------------------------------------------------------------------------------------

def _cards(context: _Context) -> str:
    report, line = context.prediction.report, context.prediction.line
    totals = report.totals
    cards = [("predicted latency per batch", f"{milliseconds(line.latency)} ms", "waterline, Eqn 12"),
             ("predicted throughput", f"{si(context.prediction.images_per_s)} images/s", context.target),
             ("max. computational efficiency", f"{percent(line.efficiency, 0)} %", "waterline, Eqn 13"),
             ("mediant intensity", f"{number(totals.intensity, 1)} flop/B",
              f"op:byte {number(line.op_byte, 1)}; limit {number(totals.intensity_limit, 1)}"),
             ("work per image", f"{number(totals.flops / report.batch / 1e9, 3)} GFLOP",
              f"{number(totals.params / 1e6, 2)} M parameters")]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="label">{html.escape(a)}</div><div class="value">{html.escape(b)}</div>'
        f'<div class="sub">{html.escape(c)}</div></div>' for a, b, c in cards) + "</div>"


def _how(key: str, **values: str) -> str:
    """The section's 'how to read this' note."""
    return f'<aside class="how"><strong>How to read this.</strong> {READING[key].format(**values)}</aside>'


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


def _sections(context: _Context, images: dict, directory: Path) -> list[str]:
    report, line = context.prediction.report, context.prediction.line
    target = html.escape(context.target)
    op_byte = number(line.op_byte, 1)
    limit = number(report.totals.intensity_limit, 1)
    sections = [
        _section("roofline", f"Roofline ({context.target})",
                 _how("roofline", op_byte=op_byte)
                 + _figure(directory, images, "roofline", f"Roofline: predicted for {context.target}")
                 + _table(bottleneck_grid(line), f"Memory-bound kernels worth fixing first "
                                                 f"(seed 001 App. B), predicted for {context.target}")),
        _section("waterline", "Waterline vs mediant",
                 _how("waterline", efficiency=percent(line.efficiency, 0),
                      mediant=percent(line.mediant_efficiency, 0))
                 + _figure(directory, images, "waterline", f"Waterline: predicted for {context.target}")
                 + _pairs(waterline_grid(line))
                 + _table(estimate_grid(context.prediction), f"Bound and estimate for {context.target}")
                 + _figure(directory, images, "efficiency_vs_op_byte",
                           f"Maximum efficiency vs processor op:byte ({report.dtype}, batch {report.batch}); "
                           f"dotted line: {report.device['description']} (op:byte {op_byte})")),
        _section("batch", "Batch size and the batch-limited limit",
                 _how("batch", limit=limit)
                 + _figure(directory, images, "batch_sweep",
                           f"Batch sweep: predicted for {report.device['description']}, {report.dtype}")
                 + _table(sweep_grid(context.sweep, "", estimate_label(context.sweep)),
                          f"Predicted for {report.device['description']}, "
                                                         f"{report.dtype}")),
        _section("traffic", "Memory traffic per kernel",
                 _how("traffic", dtype=report.dtype)
                 + _figure(directory, images, "traffic", f"DRAM traffic: {report.dtype}, batch {report.batch} "
                                                         f"(device-independent)")),
    ]
    if context.measured:
        sections.append(_measured_section(context, images, directory))
    sections += [
        _section("totals", "Totals", f'<p class="for">For {target}.</p>' + _pairs(totals_grid(report))),
        _section("kernels", "Kernels", _how("kernels", fusion=report.fusion, target=target)
                 + _table(kernel_grid(report, line), classes="kernels")),
        _section("uncounted", "Uncounted ops", _uncounted(report)),
    ]
    return sections


def _measured_section(context: _Context, images: dict, directory: Path) -> str:
    record = context.measured
    label = _measured_label(record)
    differences = _mismatches(context, record)
    warning = ""
    if differences:
        warning = (f'<p class="warn"><strong>Not the same setting as the predictions.</strong> This was measured '
                   f"on {html.escape(label)}; the predictions above are for {html.escape(context.target)}. "
                   f"Different {html.escape(', '.join(differences))}: compare which kernels dominate, "
                   f"not the absolute numbers.</p>")
    gap = _figure(directory, images, "efficiency_gap", f"Efficiency gap: measured on {label}")
    if not gap:
        gap = '<p class="muted">No efficiency-gap figure: it plots accuracy, and none was given.</p>'
    return _section("measured", f"Measured on this machine ({label})",
                    warning + _how("measured", spec=html.escape(str(record["spec"])))
                    + _pairs(measurement_grid(record)) + gap)


def _uncounted(report: Any) -> str:
    if not report.uncounted:
        return '<p class="muted">None: every op was counted.</p>'
    return (_how("uncounted") + _table(uncounted_grid(report)))


def _notes(report: Any) -> str:
    if not report.notes:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    return _section("notes", "Notes from the analysis", f"<ul>{items}</ul>")


def _page(context: _Context, notes: list[str], images: dict, directory: Path) -> str:
    report = context.prediction.report
    setting = (f"Predicted for <strong>{html.escape(report.device['description'])}</strong> "
               f"({html.escape(report.device['name'])}) in <strong>{html.escape(report.dtype)}</strong>, "
               f"batch {report.batch}, input {'x'.join(map(str, report.input_shape))}, fusion "
               f"{html.escape(report.fusion)}, capture {html.escape(report.capture)}.")
    if context.measured:
        setting += f" Measured on <strong>{html.escape(_measured_label(context.measured))}</strong>."
    findings = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    body = (f"<header><h1>{html.escape(report.model)}</h1><p class=\"setting\">{setting}</p></header>"
            f"{_cards(context)}"
            f'<section id="findings"><h2>Findings</h2><ul class="findings">{findings}</ul></section>'
            + "".join(_sections(context, images, directory)) + _notes(report))
    return PAGE.format(title=html.escape(f"intensity report: {report.model}"), body=body)


def _summary(context: _Context, images: dict) -> dict[str, Any]:
    report, line = context.prediction.report, context.prediction.line
    return {**report.to_dict(),
            "waterline": {k: v for k, v in asdict(line).items() if k != "kernels"},
            **context.prediction.bound_and_estimate(),
            "bottlenecks": [{"name": b.name, "op": b.op, "speedup": s} for b, s in amdahl_speedups(line)[:5]],
            "batch_sweep": [asdict(p) for p in context.sweep], "advice": advice(report, line),
            "measured": context.measured, "figures": images}
