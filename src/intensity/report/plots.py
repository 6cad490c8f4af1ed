"""matplotlib figures: roofline, waterline, batch sweep, memory traffic, efficiency gap.

Each function returns a Figure; `save` writes PNG and SVG. The Agg backend is used so figures
render on machines without a display.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from intensity.analysis.roofline import Waterline  # noqa: E402
from intensity.analysis.sweep import SweepPoint  # noqa: E402
from intensity.cost.result import CostReport  # noqa: E402

MEMORY, COMPUTE = "#d62728", "#1f77b4"


def save(figure: Figure, directory: Path, name: str) -> dict[str, str]:
    """Write `name`.png and `name`.svg; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for suffix in ("png", "svg"):
        path = directory / f"{name}.{suffix}"
        figure.savefig(path, dpi=120, bbox_inches="tight")
        paths[suffix] = str(path)
    plt.close(figure)
    return paths


def roofline_figure(line: Waterline, title: str) -> Figure:
    """Kernels as points (area ~ flops) under the roof min(peak, bandwidth x intensity)."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    kernels = [k for k in line.kernels if k.flops > 0]
    lowest = min([k.intensity for k in kernels] + [line.op_byte]) / 4
    highest = max([k.intensity for k in kernels] + [line.op_byte]) * 4
    xs = [lowest, line.op_byte, highest]
    axes.plot(xs, [min(line.peak_flops, line.bandwidth * x) / 1e12 for x in xs], color="black")
    biggest = max((k.flops for k in kernels), default=1)
    for k in kernels:
        axes.scatter(k.intensity, k.attainable_flops / 1e12, s=20 + 300 * k.flops / biggest, alpha=0.6,
                     color=MEMORY if k.bound == "memory" else COMPUTE)
    axes.axvline(line.op_byte, linestyle=":", color="gray")
    axes.set(xscale="log", yscale="log", xlabel="intensity (flop/byte)",
             ylabel="attainable TFLOP/s", title=title)
    return figure


def waterline_figure(line: Waterline, title: str) -> Figure:
    """Seed 001 Fig. 3: kernels side by side, width = minimum latency, height = intensity."""
    figure, axes = plt.subplots(figsize=(8, 4))
    start = 0.0
    for k in line.kernels:
        width = k.latency * 1e3
        axes.bar(start, k.intensity, width=width, align="edge", edgecolor="white", linewidth=0.3,
                 color=MEMORY if k.bound == "memory" else COMPUTE)
        start += width
    axes.axhline(line.op_byte, color="black", linestyle="--", label=f"op:byte {line.op_byte:.0f}")
    axes.set(xlabel="minimum latency (ms)", ylabel="intensity (flop/byte)",
             title=f"{title}: max efficiency {line.efficiency:.0%}")
    axes.legend(loc="upper right")
    return figure


def sweep_figure(points: Sequence[SweepPoint], title: str) -> Figure:
    """Seed 000 Fig. 3: intensity and attainable utilization plateau as batch grows."""
    figure, left = plt.subplots(figsize=(7, 4))
    batches = [p.batch for p in points]
    left.plot(batches, [p.intensity for p in points], marker="o", color=COMPUTE, label="intensity")
    if points and points[-1].intensity_limit:
        left.axhline(points[-1].intensity_limit, color=COMPUTE, linestyle=":", label="batch-limited limit")
    left.set(xscale="log", xlabel="batch size", ylabel="intensity (flop/byte)", title=title)
    right = left.twinx()
    right.plot(batches, [100 * p.utilization for p in points], marker="s", color=MEMORY,
               label="attainable utilization")
    right.set(ylabel="attainable utilization (%)", ylim=(0, 100))
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles, [h.get_label() for h in handles], loc="lower right")
    return figure


def traffic_figure(report: CostReport) -> Figure:
    """Seed 000 Fig. 4-5: each kernel's DRAM traffic split into activations and weights."""
    figure, axes = plt.subplots(figsize=(8, 4))
    positions = range(len(report.kernels))
    activations = [(k.input_bytes + k.output_bytes) / 1e6 for k in report.kernels]
    weights = [k.weight_bytes / 1e6 for k in report.kernels]
    axes.bar(positions, activations, label="activations (in + out)", color=COMPUTE)
    axes.bar(positions, weights, bottom=activations, label="weights", color="#ff7f0e")
    axes.set(xlabel="kernel", ylabel="MB", title=f"memory traffic, batch {report.batch}, {report.dtype}")
    axes.legend()
    return figure


def gap_figure(records: Sequence[dict], title: str) -> Figure:
    """Seed 001 Fig. 1 c/d: accuracy vs ideal and actual latency (log axis); the gap is -log C."""
    figure, axes = plt.subplots(figsize=(7, 4))
    for r in records:
        y = r["accuracy"] if r.get("accuracy") is not None else 0.0
        axes.plot([r["ideal_latency"] * 1e3, r["actual_latency"] * 1e3], [y, y], color="gray", linewidth=1)
        axes.scatter(r["ideal_latency"] * 1e3, y, color=COMPUTE, label="ideal" if r is records[0] else None)
        axes.scatter(r["actual_latency"] * 1e3, y, color=MEMORY, label="actual" if r is records[0] else None)
        axes.annotate(r["model"], (r["actual_latency"] * 1e3, y), fontsize=7)
    axes.set(xscale="log", xlabel="latency per batch (ms)", ylabel="accuracy", title=title)
    axes.legend()
    return figure


PARETO_PAIRS = (("images_per_s", "accuracy"), ("utilization", "accuracy"), ("images_per_s", "utilization"))


def pareto_figure(records: Sequence[dict]) -> Figure:
    """Seed 003 Fig. 1: the three 2-D frontiers of throughput, utilization and accuracy."""
    from intensity.explore.pareto import pareto_front

    pairs = [p for p in PARETO_PAIRS if all(r.get(k) is not None for r in records for k in p)]
    figure, axes = plt.subplots(1, max(len(pairs), 1), figsize=(5 * max(len(pairs), 1), 4), squeeze=False)
    for ax, (x_key, y_key) in zip(axes[0], pairs):
        points = [(r[x_key], r[y_key]) for r in records]
        front = set(pareto_front(points))
        for index, (x, y) in enumerate(points):
            ax.scatter(x, y, color=MEMORY if index in front else "gray")
            ax.annotate(records[index]["model"], (x, y), fontsize=7)
        line = sorted(points[i] for i in front)
        ax.plot([p[0] for p in line], [p[1] for p in line], color=MEMORY, linewidth=1)
        ax.set(xlabel=x_key.replace("_", " "), ylabel=y_key.replace("_", " "))
    return figure


def op_byte_figure(sweep: Sequence[tuple[float, float, float]], title: str, device_op_byte: float | None = None) -> Figure:
    """Seed 001 Fig. 4: maximum attainable efficiency vs processor op:byte, waterline vs mediant."""
    figure, axes = plt.subplots(figsize=(7, 4))
    ratios = [r for r, _, _ in sweep]
    axes.plot(ratios, [100 * w for _, w, _ in sweep], color=MEMORY, label="waterline")
    axes.plot(ratios, [100 * m for _, _, m in sweep], color=COMPUTE, linestyle="--", label="roofline of the mediant")
    if device_op_byte:
        axes.axvline(device_op_byte, color="gray", linestyle=":", label=f"this device ({device_op_byte:.0f})")
    axes.set(xlabel="processor op:byte", ylabel="max. efficiency (%)", ylim=(0, 105), title=title)
    axes.legend()
    return figure
