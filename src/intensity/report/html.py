"""The self-contained HTML report: kernel table, totals, bottlenecks, advice and figures.

`write_report` analyses a model, predicts it on a device (roofline, waterline, batch sweep),
optionally measures it on this machine, and writes DIR/report.html (figures embedded, no network),
DIR/report.json and the figures as PNG and SVG.
"""
from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from intensity.analysis.roofline import Waterline, amdahl_speedups, efficiency_vs_op_byte, waterline
from intensity.analysis.sweep import sweep_batch
from intensity.analysis.predict import predict
from intensity.cost.result import CostReport
from intensity.hardware import get_spec
from intensity.report import plots

SWEEP_BATCHES = (1, 4, 16, 64, 256, 1024, 4096)
OP_BYTES = tuple(range(5, 601, 5))  # seed 001 Fig. 4's range of processor op:byte ratios


def advice(report: CostReport, line: Waterline) -> list[str]:
    """Plain-language findings: where the time goes and what would raise intensity."""
    totals = report.totals
    notes = [f"Predicted maximum computational efficiency on {report.device['name']}: "
             f"{line.efficiency:.0%} (waterline, seed 001 Eqn 13)."]
    memory = [k for k in line.kernels if k.bound == "memory"]
    share = sum(k.latency for k in memory) / line.latency if line.latency else 0.0
    notes.append(f"{len(memory)} of {len(line.kernels)} kernels are memory bound and take {share:.0%} "
                 f"of the minimum latency.")
    limit = totals.intensity_limit
    if limit and totals.intensity >= 0.95 * limit:
        notes.append(f"Batch-limited: at batch {report.batch} the mediant intensity ({totals.intensity:.1f}) "
                     f"is within 5% of its limit ({limit:.1f}); larger batches will not raise it "
                     f"(seed 000 Eqn 4). Folding with f=4 raises the batch-limited intensity of inner "
                     f"conv/FC layers by up to sqrt(4) = 2x (seed 000 3).")
    elif limit:
        notes.append(f"Not yet batch-limited: the mediant intensity {totals.intensity:.1f} can grow "
                     f"toward {limit:.1f} with larger batches.")
    if limit and limit < line.op_byte:
        notes.append(f"Even the batch-limited intensity ({limit:.1f}) is below op:byte "
                     f"({line.op_byte:.0f}): the model cannot be compute bound on this device as built.")
    return notes


def _image(path: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" style="max-width:100%">'


def _figures(report: CostReport, line: Waterline, sweep: list, measured: dict | None,
             directory: Path) -> dict[str, dict[str, str]]:
    name = report.model
    figures = {
        "roofline": plots.roofline_figure(line, f"{name} roofline on {report.device['name']}"),
        "waterline": plots.waterline_figure(line, name),
        "batch_sweep": plots.sweep_figure(sweep, f"{name} vs batch on {report.device['name']}"),
        "traffic": plots.traffic_figure(report),
        "efficiency_vs_op_byte": plots.op_byte_figure(
            efficiency_vs_op_byte(report.kernels, OP_BYTES), f"{name}: waterline vs mediant", line.op_byte),
    }
    if measured:
        figures["efficiency_gap"] = plots.gap_figure([measured], f"{name}: measured on {measured['device']}")
    return {key: plots.save(figure, directory / "figures", key) for key, figure in figures.items()}


def _kernel_rows(report: CostReport, line: Waterline) -> str:
    frame = report.to_frame()[["name", "op", "detail", "output_shape", "flops", "bytes", "intensity",
                               "intensity_limit", "weight_reuse", "activation_reuse"]]
    frame["min latency (us)"] = [k.latency * 1e6 for k in line.kernels]
    frame["bound"] = [k.bound for k in line.kernels]
    return frame.to_html(index=True, float_format=lambda v: f"{v:,.2f}", classes="kernels", border=0)


def _html(report: CostReport, line: Waterline, notes: list[str], images: dict, measured: dict | None) -> str:
    fixes = "".join(f"<tr><td>{html.escape(b.name)}</td><td>{b.op}</td><td>{s:.3f}x</td></tr>"
                    for b, s in amdahl_speedups(line)[:5])
    totals = "".join(f"<tr><td>{k}</td><td>{_fmt(v)}</td></tr>" for k, v in report.totals.to_dict().items())
    measured_rows = "".join(f"<tr><td>{k}</td><td>{_fmt(v)}</td></tr>" for k, v in (measured or {}).items())
    figures = "".join(f"<h3>{key.replace('_', ' ')}</h3>{_image(paths['png'])}" for key, paths in images.items())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>intensity: {html.escape(report.model)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}}td:first-child{{text-align:left}}</style>
</head><body><h1>{html.escape(report.model)}</h1>
<p>batch {report.batch}, input {'x'.join(map(str, report.input_shape))}, {report.dtype},
device {html.escape(report.device['description'])} (op:byte {line.op_byte:.1f}), fusion {report.fusion},
capture {report.capture}</p>
<h2>Findings</h2><ul>{''.join(f'<li>{html.escape(n)}</li>' for n in notes)}</ul>
<h2>Bottlenecks (Amdahl's roofline: whole-model speedup if the kernel reached peak)</h2>
<table><tr><th>kernel</th><th>op</th><th>speedup</th></tr>{fixes}</table>
<h2>Totals</h2><table>{totals}</table>
{'<h2>Measured on this machine</h2><table>' + measured_rows + '</table>' if measured else ''}
<h2>Figures</h2>{figures}
<h2>Kernels</h2>{_kernel_rows(report, line)}
</body></html>"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.4g}"
    return html.escape(str(value))


def write_report(model: str, out: str | Path, *, device: str = "h100", dtype: str = "fp16", batch: int = 256,
                 fusion: str = "trivial", blocks: tuple[str, ...] = (), measure: dict | None = None) -> dict[str, Any]:
    """Analyse, predict and (given `measure`, a record from `intensity measure`) report on `model`."""
    prediction = predict(model, device=device, dtype=dtype, batch=batch, fusion=fusion, blocks=blocks)
    spec, report, line = prediction.spec, prediction.report, prediction.line
    sweep = sweep_batch(model, SWEEP_BATCHES, device=spec, dtype=dtype, fusion=fusion, blocks=blocks)
    directory = Path(out)
    images = _figures(report, line, sweep, measure, directory)
    notes = advice(report, line)
    summary = {**report.to_dict(), "waterline": {k: v for k, v in asdict(line).items() if k != "kernels"},
               "bottlenecks": [{"name": b.name, "op": b.op, "speedup": s} for b, s in amdahl_speedups(line)[:5]],
               "batch_sweep": [asdict(p) for p in sweep], "advice": notes, "measured": measure,
               "figures": images}
    (directory / "report.html").write_text(_html(report, line, notes, images, measure))
    (directory / "report.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary
