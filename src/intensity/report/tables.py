"""Rich tables of cost reports, hardware specs and the model zoo."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from intensity.analysis.di_alpha import Calibration
from intensity.analysis.roofline import Waterline, amdahl_speedups
from intensity.analysis.batch_sweep import SweepPoint
from intensity.analysis.predict import BOUND_KIND
from intensity.cost.formulas import KERNEL_KINDS
from intensity.cost.result import CostReport, kernel_dict
from intensity.hardware.spec import HardwareSpec
from intensity.models import ModelEntry

_DTYPE_COLUMNS = ("fp32", "tf32", "fp16", "bf16", "int8")


def si(value: float | None, unit: str = "") -> str:
    """1.5e9 -> '1.50 G'; None -> '-'."""
    if value is None:
        return "-"
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:.0f} {unit}".rstrip()


def number(value: float | None, digits: int = 2) -> str:
    """Fixed decimals with thousands separators; None and NaN read as '-'."""
    return "-" if value is None or value != value else f"{value:,.{digits}f}"


def _shape(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape) or "-"


@dataclass(frozen=True)
class Grid:
    """A table as labelled, formatted strings: rendered by `rich_table` (terminal) and report/html.py."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    left: tuple[str, ...] = ()  # text columns, aligned left; the rest are numbers, aligned right
    caption: str = ""
    header: bool = True  # False: a list of labelled values, drawn without a header row


def rich_table(grid: Grid, show_header: bool = True) -> Table:
    """The terminal form of a grid; 'memory' in a `bound` column is drawn red."""
    table = Table(title=grid.title, title_justify="left", header_style="bold", show_header=show_header and grid.header,
                  caption=grid.caption or None, caption_justify="left")
    for column in grid.columns:
        table.add_column(column, justify="left" if column in grid.left else "right")
    bound = grid.columns.index("bound") if "bound" in grid.columns else None
    for row in grid.rows:
        cells = list(row)
        if bound is not None and cells[bound] == "memory":
            cells[bound] = "[red]memory[/]"
        table.add_row(*cells)
    return table


def kernel_label(name: str, op: str) -> str:
    """The kernel's module path; a bare Sequential index ('0') gets its op so it reads on an axis."""
    if not name:
        return f"(model) {op}"
    return f"{name} {op}" if name.replace(".", "").isdigit() else name


def significant(value: float | None, digits: int = 3) -> str:
    """`digits` significant digits without exponents: 0.0123, 1.23, 123, 12,345."""
    if value is None or value != value:  # None or NaN
        return "-"
    if value == 0:
        return "0"
    decimals = max(0, min(9, digits - 1 - math.floor(math.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def compact(value: float | None) -> str:
    """Large values with an SI prefix (2.08 M), small ones with three significant digits."""
    if value is None or value != value:
        return "-"
    return si(value) if abs(value) >= 1e4 else significant(value)


def milliseconds(seconds: float | None) -> str:
    """Seconds shown in ms, three significant digits: 0.000123 s -> '0.123'."""
    return "-" if seconds is None else significant(seconds * 1e3)


def percent(fraction: float | None, digits: int = 1) -> str:
    return "-" if fraction is None else f"{100 * fraction:.{digits}f}"


KERNEL_TEXT = ("kernel (module)", "op", "output shape", "bound")


def kernel_grid(report: CostReport, line: Waterline | None = None, top: int | None = None) -> Grid:
    """One row per kernel (`top`: the kernels moving the most bytes, in model order).

    With `line` (the waterline on the report's device) each row also gets its minimum latency,
    its share of the total and its bound.
    """
    columns = ["#", "kernel (module)", "op", "output shape", "GFLOP", "MB", "intensity (flop/B)",
               "batch-limited limit (flop/B)", "weight reuse", "activation reuse"]
    if line is not None:
        columns += ["min latency (ms)", "time (%)"]
    if report.op_byte is not None or line is not None:
        columns.append("bound")
    rows = [_kernel_row(report, index, kernel, line) for index, kernel in _selected(report, top)]
    return Grid(_title(report), tuple(columns), rows, KERNEL_TEXT)


def _kernel_row(report: CostReport, index: int, kernel: object, line: Waterline | None) -> tuple[str, ...]:
    row = kernel_dict(kernel, report.op_byte)
    cells = [str(index), kernel.name or "(model)", describe_op(kernel), _shape(kernel.output_shape),
             significant(kernel.flops / 1e9), significant(kernel.bytes / 1e6), number(kernel.intensity),
             number(row["intensity_limit"]), compact(row["weight_reuse"]), compact(row["activation_reuse"])]
    if line is not None:
        bound = line.kernels[index]
        share = bound.latency / line.latency if line.latency else 0.0
        cells += [milliseconds(bound.latency), percent(share), bound.bound]
    elif report.op_byte is not None:
        cells.append(row["bound"])
    return tuple(cells)


def describe_op(kernel: object) -> str:
    """'conv standard 3x3 s2 +batch_norm+relu': kind, variant and the ops fused into it."""
    fused = "+" + "+".join(kernel.fused) if kernel.fused else ""
    detail = kernel.detail if kernel.op not in KERNEL_KINDS or kernel.op in ("conv", "attention") else ""
    return " ".join(filter(None, [kernel.op, detail, fused]))


def _selected(report: CostReport, top: int | None) -> list[tuple[int, object]]:
    indexed = list(enumerate(report.kernels))
    if top is None or top >= len(indexed):
        return indexed
    heaviest = sorted(indexed, key=lambda item: item[1].bytes, reverse=True)[:top]
    return sorted(heaviest, key=lambda item: item[0])


def _title(report: CostReport) -> str:
    device = f" on {report.device['name']}" if report.device else ""
    shapes = ", ".join(report.inputs) if len(report.inputs) > 1 else _shape(report.input_shape)
    return (f"{report.model}: batch {report.batch}, input {shapes}, "
            f"{report.dtype}{' autocast (AMP)' if getattr(report, 'amp', False) else ''}{device}, "
            f"fusion {report.fusion}")


def totals_grid(report: CostReport) -> Grid:
    """Whole-model figures, one labelled row each (values carry their units)."""
    totals = report.totals.to_dict()
    rows = [
        ("kernels", str(totals["kernels"])), ("flops", si(totals["flops"], "FLOP")),
        ("MACs", si(totals["macs"], "MAC")), ("parameters", si(totals["params"])),
        ("DRAM traffic (in / weights / out)", f"{si(totals['bytes'], 'B')} ({si(totals['input_bytes'], 'B')}"
         f" / {si(totals['weight_bytes'], 'B')} / {si(totals['output_bytes'], 'B')})"),
        ("mediant intensity (flop/B)", number(totals["intensity"])),
        ("batch-limited limit (flop/B)", number(totals["intensity_limit"])),
        ("weight reuse / activation reuse (flop/element)", f"{number(totals['weight_reuse'], 1)} / "
                                                           f"{number(totals['activation_reuse'], 1)}"),
        (f"AI_c / DI (alpha {totals['alpha']})", f"{number(totals['ai_c'])} / {number(totals['di'])}"),
        ("disparity d_f (%) / A/W", f"{number(totals['disparity'], 1)} / {number(totals['a_over_w'])}"),
    ]
    if report.device:
        rows.append((f"{report.device['name']} op:byte ({report.dtype}, flop/B)", number(report.device["op_byte"])))
        if "op_byte_macs" in report.device:
            rows.append(("  in MACs/byte, as its source counts", number(report.device["op_byte_macs"])))
    return Grid("totals", ("metric", "value"), rows, ("metric",), header=False)


def uncounted_grid(report: CostReport) -> Grid:
    """Ops the counter could not cost: left out of flops and bytes, never silently zero."""
    rows = [(u.op, str(u.calls), ", ".join(u.modules) or "(model)") for u in report.uncounted]
    return Grid("uncounted ops", ("op", "calls", "modules"), rows, ("op", "modules"))


def roofline_grid(line: Waterline, title: str) -> Grid:
    """Per kernel: roofline attainable flops/s (Eqn 10) and minimum latency (Eqn 11)."""
    columns = ("#", "kernel", "op", "GFLOP", "MB", "intensity (flop/B)", "attainable TFLOP/s",
               "min latency (us)", "bound")
    rows = [(str(i), k.name, k.op, significant(k.flops / 1e9), significant(k.bytes / 1e6), number(k.intensity),
             number(k.attainable_flops / 1e12), number(k.latency * 1e6, 1), k.bound)
            for i, k in enumerate(line.kernels)]
    return Grid(title, columns, rows, ("kernel", "op", "bound"))


def waterline_grid(line: Waterline) -> Grid:
    """The waterline totals (Eqn 12-13) next to the roofline of the mediant (4.3)."""
    rows = [("op:byte (flop/B)", number(line.op_byte)),
            ("ideal latency (flops / peak)", f"{milliseconds(line.ideal_latency)} ms"),
            ("waterline minimum latency (Eqn 12)", f"{milliseconds(line.latency)} ms"),
            ("maximum computational efficiency (Eqn 13)", f"{line.efficiency:.1%}"),
            ("roofline of the mediant: latency", f"{milliseconds(line.mediant_latency)} ms"),
            ("roofline of the mediant: efficiency", f"{line.mediant_efficiency:.1%}")]
    return Grid("waterline", ("metric", "value"), rows, ("metric",), header=False)


def bottleneck_grid(line: Waterline, top: int = 5) -> Grid:
    """App. B: the memory-bound kernels whose fix would speed the whole model up the most."""
    rows = [(kernel_label(b.name, b.op), b.op, percent(b.latency / line.latency if line.latency else 0.0),
             f"{speedup:.3f}x") for b, speedup in amdahl_speedups(line)[:top]]
    return Grid("Amdahl's roofline: speedup if one memory-bound kernel reached peak",
                ("kernel (module)", "op", "share of latency (%)", "whole-model speedup"), rows,
                ("kernel (module)", "op"))


def sweep_grid(points: Sequence[SweepPoint], title: str, estimate_note: str = "") -> Grid:
    """The batch sweep; the caption names the estimate's runtime and profile (`estimate_note`)."""
    columns = ("batch", "mediant intensity (flop/B)", "batch-limited limit (flop/B)",
               "bound: utilization (%)", "bound: latency (ms)", "bound: images/s", "estimate: utilization (%)",
               "estimate: images/s")
    rows = [(str(p.batch), number(p.intensity), number(p.intensity_limit), percent(p.utilization),
             milliseconds(p.latency), number(p.throughput, 0), percent(p.estimated_utilization),
             number(p.estimated_throughput, 0)) for p in points]
    caption = f"{BOUND_KIND}; {estimate_note}" if estimate_note else BOUND_AND_ESTIMATE
    return Grid(title, columns, rows, caption=caption)


BOUND_AND_ESTIMATE = ("bound: roofline/waterline, never beaten by a correct measurement; estimate: what "
                      "PyTorch will likely measure (efficiency profile fitted to published GPU measurements)")


def estimate_grid(prediction: Any) -> Grid:
    """The bound and the estimate side by side, with the profile the estimate used."""
    figures = prediction.bound_and_estimate()
    bound, guess = figures["bound"], figures["estimate"]
    rows = [("bound (roofline/waterline)", milliseconds(bound["latency_s"]), number(bound["images_per_s"], 0),
             percent(bound["utilization"]))]
    if guess is not None:
        rows.append((f"estimate ({guess['runtime']} PyTorch)", milliseconds(guess["latency_s"]),
                     number(guess["images_per_s"], 0), percent(guess["utilization"])))
    return Grid("bound and estimate", ("figure", "latency per batch (ms)", "images/s", "utilization (%)"), rows,
                ("figure",), caption=figures["estimate_note"])


# Measurement record fields shown by `measurement_grid`, in order, with their labels.
_MEASURED = (("device", "measured on"), ("dtype", "dtype"), ("batch", "batch"))


def measurement_grid(record: dict) -> Grid:
    """One measurement record (`Measurement.to_dict()`), one labelled row per figure."""
    spread = f"{number(record['images_per_s'], 1)} ({number(record['images_per_s_min'], 1)} - " \
             f"{number(record['images_per_s_max'], 1)})"
    rows = [(label, str(record[key])) for key, label in _MEASURED if key in record]
    rows += [
        ("images/s, median of trials (min - max)", spread),
        ("spread of trials ((max - min) / median)", "-" if record.get("spread") is None
         else f"{record['spread']:.0%}" + (" (machine busy)" if record.get("busy") else "")),
        ("trials x batches per trial", f"{record.get('trials', '-')} x {record.get('iters', '-')}"),
        ("latency per batch (ms)", milliseconds(record["actual_latency"])),
        ("GFLOP per image", number(record["flops_per_image"] / 1e9, 3)),
        (f"peak used for utilization (spec {record['spec']}, TFLOP/s)", number(record["peak_tflops"], 3)),
        ("utilization (%)", percent(record["utilization"])),
        ("ideal latency per batch (ms, flops / peak)", milliseconds(record["ideal_latency"])),
        ("computational efficiency C (%)", percent(record["efficiency"])),
        ("log efficiency gap (-log C)", number(record["log_gap"], 2)),
        ("accuracy", "-" if record.get("accuracy") is None else number(record["accuracy"], 2)),
    ]
    if record.get("threads") is not None:
        rows.append(("CPU threads", str(record["threads"])))
    return Grid("measured", ("metric", "value"), rows, ("metric",))


# --- grids of the operations layer's results (analysis, calibration, measurement, kernels) ---------

def devices_grid(specs: Sequence[HardwareSpec]) -> Grid:
    """Bundled specs: dense peak TFLOP/s per dtype, bandwidth and op:byte at fp16."""
    rows = []
    for spec in specs:
        peaks = [number(spec.peak_tflops[d], 1) if d in spec.peak_tflops else "-" for d in _DTYPE_COLUMNS]
        op_byte = number(spec.op_byte("fp16"), 0) if "fp16" in spec.peak_tflops else "-"
        rows.append((spec.key, spec.name, *peaks, number(spec.bandwidth_gbs, 0), op_byte))
    return Grid("accelerator specs (dense peak TFLOP/s; op:byte = peak / bandwidth)",
                ("device", "name", *_DTYPE_COLUMNS, "GB/s", "op:byte fp16"), rows, ("device", "name"))


def models_grid(records: Sequence[dict]) -> Grid:
    """Zoo entries (`list-models` records): name, family, input, classes, params, flops at batch 1."""
    rows = [(r["name"], r["family"], _shape(r["input_shape"]), str(r["num_classes"]), si(r["params"]),
             si(r["flops"], "FLOP")) for r in records]
    return Grid("model zoo (flops at batch 1)", ("name", "family", "input", "classes", "params", "flops"), rows,
                ("name", "family", "input"))


def op_byte_grid(rows: Sequence[dict], title: str, own: float, device: str) -> Grid:
    """Seed 001 Fig. 4: waterline and mediant-roofline efficiency per processor op:byte."""
    cells = [(f"{r['op_byte']:g}", f"{r['waterline']:.1%}", f"{r['mediant']:.1%}", r["device"] or "") for r in rows]
    return Grid(title, ("op:byte", "waterline", "roofline of the mediant", "device"), cells, ("device",),
                caption=f"marked: {device}'s own op:byte ({own:.1f} flop/B)")


def alpha_grids(result: Calibration) -> list[Grid]:
    """DI's alpha sweep (Pearson r per alpha) and the Fisher-z intervals (seed 004)."""
    sweep = []
    for alpha, r in result.correlations.items():
        marks = " (plateau: chosen)" if alpha == result.plateau_alpha else ""
        marks += " (max)" if alpha == result.best_alpha else ""
        sweep.append((f"{alpha:.2f}", f"{r:.3f}{marks}"))
    intervals = []
    for name, r in ((f"DI (alpha {result.plateau_alpha:.2f})", result.correlations[result.plateau_alpha]),
                    ("AI_c", result.ai_c_r)):
        key = "di" if name.startswith("DI") else "ai_c"
        intervals.append((name, f"{r:.3f}", *(f"{v:.2f}" for i in result.intervals[key] for v in (i.lower, i.upper))))
    return [Grid(f"Pearson r of DI vs energy efficiency ({result.n} models)", ("alpha", "r"), sweep),
            Grid("Fisher-z intervals of the population correlation", ("metric", "r", "95% L", "95% U", "99% L", "99% U"),
                 intervals, ("metric",))]


def measurements_grid(records: Sequence[dict], title: str) -> Grid:
    """One row per measured model (`Measurement.to_dict()` records)."""
    rows = []
    for r in records:
        spread = "-" if r.get("spread") is None else f"{r['spread']:.0%}" + (" busy" if r.get("busy") else "")
        rows.append((r["model"], f"{number(r['images_per_s'], 1)} ({number(r['images_per_s_min'], 1)}-"
                     f"{number(r['images_per_s_max'], 1)})", spread, str(r.get("threads", "-")),
                     number(r["flops_per_image"] / 1e9, 3), f"{r['utilization']:.1%}",
                     number(r["ideal_latency"] * 1e3, 3), number(r["actual_latency"] * 1e3, 3),
                     f"{r['efficiency']:.1%}", number(r["log_gap"], 2),
                     "-" if r.get("accuracy") is None else number(r["accuracy"], 2)))
    caption = f"peak: {records[0]['spec']} {number(records[0]['peak_tflops'], 3)} TFLOP/s" if records else ""
    return Grid(title, ("model", "images/s (min-max)", "spread", "threads", "GFLOP/image", "utilization",
                        "ideal ms", "actual ms", "C", "log gap", "accuracy"), rows, ("model",), caption=caption)


def energy_grid(record: dict) -> Grid:
    """NVML energy figures of a measurement (seed 004 Eqn 1-2)."""
    labels = (("joules_per_image", "J/image"), ("epp", "energy per pixel (J)"),
              ("macs_per_joule", "MACs/J"), ("mean_power_w", "mean power (W)"))
    rows = [(label, significant(record[key])) for key, label in labels if record.get(key) is not None]
    return Grid("energy (NVML)", ("metric", "value"), rows, ("metric",), header=False)


def calibration_summary_grid(calibration: Any, path: str) -> Grid:
    """What `calibrate-device` measured: per kernel kind, the grid's span and best rates."""
    machine = calibration.machine
    rows = []
    for kind in calibration.kinds():
        points = [p for p in calibration.points if p.kind == kind]
        unit = {"elementwise": "GB/s", "pool": "G window reads/s"}.get(kind, "GFLOP/s")
        rows.append((kind, str(len(points)), _span(p.channels for p in points), _span(p.size for p in points),
                     f"{min(p.best for p in points) / 1e9:.3g}", f"{max(p.best for p in points) / 1e9:.3g}", unit))
    return Grid(f"calibration of {machine['device_name']} ({machine['threads']} threads, torch {machine['torch']}, "
                f"{calibration.dtype}): {path}",
                ("kind", "points", "channels", "sizes", "best rate: lowest", "highest", "unit"), rows, ("kind", "unit"),
                caption=f"robust peak {calibration.peak_flops / 1e12:.3f} TFLOP/s, copy bandwidth "
                        f"{calibration.bandwidth / 1e9:.1f} GB/s (best trials); load {machine.get('load')}")


def _span(values: Any) -> str:
    values = sorted(set(values))
    return f"{values[0]}-{values[-1]}" if len(values) > 1 else str(values[0])


def calibrated_grid(data: dict) -> Grid:
    """`roofline --device calibrated`: each kernel's calibrated time next to its roofline time."""
    rows = [(k.name, k.op, k.kind, f"{k.roofline * 1e3:.4f}", f"{k.calibrated * 1e3:.4f}",
             f"{k.calibrated / k.roofline:.1f}x" if k.roofline else "-", k.source) for k in data["kernels"]]
    return Grid(f"{data['model']}: batch {data['batch']}, {data['dtype']} on {data['device']['name']}: calibrated "
                f"time vs roofline (the roofline is the upper bound on performance)",
                ("kernel", "op", "kind", "roofline ms", "calibrated ms", "calibrated / roofline", "source"), rows,
                ("kernel", "op", "kind", "source"),
                caption=f"calibrated {data['calibrated_latency'] * 1e3:.3f} ms per batch, roofline "
                        f"{data['roofline_latency'] * 1e3:.3f} ms (lower bound); {data['fallbacks']} kernel(s) "
                        f"outside the grid use the roofline")


def fuse_grids(data: dict) -> list[Grid]:
    """`fuse`: blocks fused and left unchanged, and the check's error when one was run."""
    counts: dict[str, int] = {}
    for row in data["replaced"]:
        counts[row["block"]] = counts.get(row["block"], 0) + 1
    blocks = sorted({*counts, *(r["block"] for r in data["unchanged"])})
    grids = [Grid(f"{data['model']}: block fusion ({data['backend']})", ("block", "fused", "left unchanged"),
                  [(b, str(counts.get(b, 0)), str(sum(r["block"] == b for r in data["unchanged"]))) for b in blocks],
                  ("block",))]
    if data["unchanged"]:
        grids.append(Grid("left unchanged", ("module", "block", "reason"),
                          [(r["path"], r["block"], r["reason"]) for r in data["unchanged"]], ("module", "block", "reason")))
    if "max_abs_diff" in data:
        grids.append(_fuse_check_grid(data))
    return grids


def _fuse_check_grid(data: dict) -> Grid:
    columns, cells = ["max |original - fused|", "max |original|"], [f"{data['max_abs_diff']:.3g}",
                                                                      f"{data['max_abs_output']:.3g}"]
    if data.get("relative_error") is not None:
        columns.append(f"worst block ({data.get('judged_at', 'output')}): error / input-dependent part")
        cells.append(f"{data['relative_error']:.3g}")
    return Grid(f"check on a random batch {'x'.join(map(str, data['input']))}", tuple(columns), [tuple(cells)],
                caption="biases and batch-norm statistics randomised first; each fused block is then compared "
                        "with its layer-wise original on a random input of its shape")


def fusion_grid_grids(data: dict, block: str, device: str, batch: int, dtype: str) -> list[Grid]:
    """`fusion-grid`: layer-wise vs block-fusion waterline over the seed's block grid (Fig. 8/12)."""
    figure = "Fig. 8" if block == "convfirst" else "Fig. 12"
    rows = [(r["point"], str(r["layer_kernels"]), str(r["layer_memory_bound"]), f"{r['layer_latency_us']:.0f}",
             f"{r['fused_intensity']:.0f}", r["fused_bound"], f"{r['fused_latency_us']:.0f}", f"{r['speedup']:.1f}x",
             f"{r['layer_efficiency']:.0%}", f"{r['fused_efficiency']:.0%}",
             f"{r['seed_layer_us']} / {r['seed_fused_us']}" if r["seed_layer_us"] else "-") for r in data["grid"]]
    grids = [Grid(f"{block} blocks ({figure}): waterline latency, batch {batch}, {dtype}, {device}",
                  ("point", "layer kernels", "memory-bound", "layer us", "fused intensity", "fused bound", "fused us",
                   "speedup", "layer eff.", "fused eff.", "seed us (layer / fused)"), rows, ("point", "fused bound"),
                  caption="seed: minimum latencies printed under the wells of the seed's figure")]
    if data["network"]:
        n = data["network"]
        grids.append(Grid(f"{n['model']}: max. computational efficiency (seed §6.2: 36% layer-wise, 97% fused)",
                          ("kernels", "count", "waterline ms", "max. efficiency"),
                          [("layer-wise", str(n["layer_kernels"]), f"{n['layer_latency_ms']:.2f}",
                            f"{n['layer_efficiency']:.1%}"),
                           ("block fusion", str(n["fused_kernels"]), f"{n['fused_latency_ms']:.2f}",
                            f"{n['fused_efficiency']:.1%}")], ("kernels",)))
    return grids


def defaults_grid(values: dict) -> Grid:
    """`intensity config`: the defaults in force and where each came from."""
    return Grid("defaults in force (set by INTENSITY_DTYPE, INTENSITY_DEVICE or the config file)",
                ("setting", "value", "from"),
                [("dtype", values["dtype"], values["dtype_from"]), ("device", values["device"], values["device_from"]),
                 ("config file", values["config_file"], "INTENSITY_CONFIG or ~/.config/intensity/config.toml")],
                ("setting", "value", "from"))


def fit_grids(profile: Any, in_sample: dict, validation: dict, path: str) -> list[Grid]:
    """`fit-device`: the fitted parameters, then how well they predict (in sample, held-out families)."""
    parameters = Grid(f"{profile.name} {profile.runtime} profile -> {path}", ("parameter", "value"),
                      [(name, significant(getattr(profile, name))) for name in profile.PARAMETERS],
                      left=("parameter",), caption="efficiencies: fractions of the peaks at the base "
                      "clock and of DRAM bandwidth; tensor issue: bytes per SM per cycle; overhead: us per kernel")
    columns = ("check", "models", "Spearman", "geomean", "geostd", "within 10%", "within 25%")
    rows = [(label, str(m.get("models", 0)), significant(m.get("spearman")), significant(m.get("geomean")),
             significant(m.get("geostd")), percent(m.get("within_10")), percent(m.get("within_25")))
            for label, m in (("in sample", in_sample), ("held-out families", validation)) if m]
    return [parameters, Grid("measured / estimated images/s", columns, rows, left=("check",))]
