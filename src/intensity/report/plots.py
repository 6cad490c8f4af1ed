"""matplotlib figures: roofline, waterline, batch sweep, memory traffic, efficiency gap, Pareto
frontiers, the timm survey and gradient communication.

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

from intensity.analysis.roofline import KernelBound, Waterline  # noqa: E402
from intensity.analysis.batch_sweep import SweepPoint  # noqa: E402
from intensity.cost.result import CostReport  # noqa: E402
from intensity.report.tables import kernel_label  # noqa: E402

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


def _slowest(kernels: Sequence[KernelBound], count: int) -> set[int]:
    """Indices of the `count` kernels with the longest minimum latency: the ones worth a label."""
    order = sorted(range(len(kernels)), key=lambda i: kernels[i].latency, reverse=True)
    return set(order[:max(count, 0)])


def _label_points(figure: Figure, axes, kernels: Sequence[KernelBound], places: list[tuple[float, float]],
                  count: int) -> None:
    """Number the `count` slowest kernels on the plot (1 = slowest) and name them in a key at the right.

    Numbers instead of names on the points: kernels of one stage sit almost on top of each other.
    """
    total = sum(k.latency for k in kernels) or 1.0
    order = sorted(_slowest(kernels, count), key=lambda i: kernels[i].latency, reverse=True)
    if order:
        figure.text(0.75, 0.88, "slowest kernels (share of time)", fontsize=8, weight="bold", va="top")
    spots: dict[tuple[float, float], list[int]] = {}  # kernels drawn on one spot share one label
    for rank, index in enumerate(order, start=1):
        k = kernels[index]
        spots.setdefault(places[index], []).append(rank)
        figure.text(0.75, 0.88 - 0.045 * rank, f"{rank}  {kernel_label(k.name, k.op)}  ({k.latency / total:.0%})",
                    fontsize=7.5, va="top", family="monospace")
    for row, (place, ranks) in enumerate(sorted(spots.items())):
        axes.annotate(",".join(map(str, ranks)), place, xytext=(0, 6 + 9 * (row % 2)), textcoords="offset points",
                      ha="center", fontsize=7, weight="bold", color="#333333")


def roofline_figure(line: Waterline, title: str, labels: int = 8) -> Figure:
    """Kernels as points (area ~ flops) under the roof min(peak, bandwidth x intensity).

    The `labels` slowest kernels are named by module path. Kernels without flops (pools, copies)
    have intensity 0, which a log axis cannot show: they are drawn hollow at the left edge.
    """
    figure, axes = plt.subplots(figsize=(10, 5))
    figure.subplots_adjust(right=0.72)
    positive = [k.intensity for k in line.kernels if k.flops > 0 and k.intensity > 0]
    lowest = min(positive + [line.op_byte]) / 8
    highest = max(positive + [line.op_byte]) * 4
    roof = lambda x: min(line.peak_flops, line.bandwidth * x) / 1e12  # noqa: E731
    xs = [lowest, line.op_byte, highest]
    axes.plot(xs, [roof(x) for x in xs], color="black", linewidth=1.2, label="roof")
    biggest = max((k.flops for k in line.kernels), default=1) or 1
    places = []
    for k in line.kernels:
        color = MEMORY if k.bound == "memory" else COMPUTE
        if k.flops > 0 and k.intensity > 0:
            x, y = k.intensity, k.attainable_flops / 1e12
            axes.scatter(x, y, s=20 + 300 * k.flops / biggest, alpha=0.6, color=color)
        else:
            x, y = lowest, roof(lowest)
            axes.scatter(x, y, s=60, facecolors="none", edgecolors=color, linewidths=1.5, marker="o")
        places.append((x, y))
    _label_points(figure, axes, line.kernels, places, labels)
    axes.axvline(line.op_byte, linestyle=":", color="gray", label=f"op:byte {line.op_byte:.0f}")
    axes.scatter([], [], color=MEMORY, alpha=0.6, label="memory bound")
    axes.scatter([], [], color=COMPUTE, alpha=0.6, label="compute bound")
    if any(k.flops == 0 or k.intensity == 0 for k in line.kernels):
        axes.scatter([], [], facecolors="none", edgecolors="gray", label="no flops (drawn at left edge)")
    axes.set(xscale="log", yscale="log", xlabel="intensity (flop/B)", ylabel="attainable TFLOP/s",
             title=title)
    axes.set_ylim(min(y for _, y in places) / 3 if places else None, line.peak_flops / 1e12 * 3)
    axes.legend(loc="lower right", fontsize=8)
    axes.grid(True, which="major", alpha=0.3)
    return figure


def waterline_figure(line: Waterline, title: str, labels: int = 6) -> Figure:
    """Seed 001 Fig. 3: kernels side by side, width = minimum latency, height = intensity.

    The `labels` widest (slowest) kernels are named inside their bars.
    """
    figure, axes = plt.subplots(figsize=(9, 4.5))
    start, named = 0.0, _slowest(line.kernels, labels)
    top = max([k.intensity for k in line.kernels] + [line.op_byte])
    for index, k in enumerate(line.kernels):
        width = k.latency * 1e3
        axes.bar(start, k.intensity, width=width, align="edge", edgecolor="white", linewidth=0.3,
                 color=MEMORY if k.bound == "memory" else COMPUTE)
        if index in named:
            axes.text(start + width / 2, min(k.intensity, top) + top * 0.02, kernel_label(k.name, k.op),
                      rotation=90, ha="center", va="bottom", fontsize=7, color="#333333")
        start += width
    from matplotlib.patches import Patch

    ridge = axes.axhline(line.op_byte, color="black", linestyle="--", label=f"op:byte {line.op_byte:.0f}")
    # an empty bar() has no colour of its own in the legend: name the colours with patches
    handles = [ridge, Patch(color=MEMORY, label="memory bound"), Patch(color=COMPUTE, label="compute bound")]
    axes.set(xlabel="minimum latency (ms), kernels in model order", ylabel="intensity (flop/B)",
             ylim=(0, top * 1.45), title=f"{title}: max efficiency {line.efficiency:.0%}")
    axes.legend(handles=handles, loc="upper right", fontsize=8)
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


def traffic_figure(report: CostReport, title: str | None = None) -> Figure:
    """Seed 000 Fig. 4-5: each kernel's DRAM traffic split into activations and weights."""
    count = len(report.kernels)
    figure, axes = plt.subplots(figsize=(min(max(8.0, 0.22 * count), 20.0), 4.8))
    positions = list(range(count))
    activations = [(k.input_bytes + k.output_bytes) / 1e6 for k in report.kernels]
    weights = [k.weight_bytes / 1e6 for k in report.kernels]
    axes.bar(positions, activations, label="activations (in + out)", color=COMPUTE)
    axes.bar(positions, weights, bottom=activations, label="weights", color="#ff7f0e")
    axes.set_xticks(positions, [kernel_label(k.name, k.op) for k in report.kernels], rotation=90,
                    fontsize=7 if count <= 40 else 5)
    axes.set(xlabel="kernel (module)", ylabel="DRAM traffic (MB)", xlim=(-0.6, count - 0.4),
             title=title or f"memory traffic, batch {report.batch}, {report.dtype}")
    axes.legend(fontsize=8)
    return figure


def gap_figure(records: Sequence[dict], title: str) -> Figure:
    """Seed 001 Fig. 1 c/d: accuracy vs ideal and actual latency (log axis); the gap is -log C.

    The figure's y axis is accuracy, so every record must have one (a ValueError otherwise).
    """
    missing = [r.get("model", "?") for r in records if r.get("accuracy") is None]
    if not records or missing:
        raise ValueError(f"the efficiency-gap figure plots accuracy, and {', '.join(missing) or 'no model'} "
                         f"has none: give accuracies (`accuracy`, e.g. 71.2,75.4) or leave the figure out")
    figure, axes = plt.subplots(figsize=(7, 4))
    for r in records:
        y = r["accuracy"]
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


def frontier_figure(records: Sequence[dict], objectives: Sequence, members: Sequence[int]) -> Figure:
    """Seed 003 Fig. 1 style: each pair of objectives, all points gray, the frontier in colour."""
    import itertools

    pairs = list(itertools.combinations(objectives, 2))
    figure, axes = plt.subplots(1, len(pairs), figsize=(5 * len(pairs), 4), squeeze=False)
    chosen = set(members)
    for ax, (x, y) in zip(axes[0], pairs):
        ax.scatter([r[x.metric] for r in records], [r[y.metric] for r in records], s=4, color="0.7")
        front = [records[i] for i in sorted(chosen, key=lambda i: records[i][x.metric])]
        ax.scatter([r[x.metric] for r in front], [r[y.metric] for r in front], s=12, color="tab:orange",
                   label="non-dominated")
        ax.set(xlabel=x.name, ylabel=y.name)
        ax.legend(fontsize=8)
    return figure


def survey_figure(result) -> Figure:  # noqa: ANN001 (a SurveyResult)
    """Seed 003 Fig. 2: the three 2-D frontiers of the survey; arrows show folding's utilization."""
    from intensity.explore.survey import PAIRS

    figure, axes = plt.subplots(1, 3, figsize=(15, 4))
    colour = {True: "tab:blue", False: "tab:orange", None: "0.6"}
    for ax, (x, y), members in zip(axes, PAIRS, result.frontiers.values()):
        chosen = set(members)
        for model in result.models:
            on = f"{model.name}@{model.img_size}" in chosen
            ax.scatter(getattr(model, x), getattr(model, y), s=14 if on else 4,
                       color=colour[model.above_op_byte], edgecolors="k" if on else "none")
            if x == "utilization" and model.fold and "utilization_after" in model.fold:
                ax.annotate("", (model.fold["utilization_after"], model.top1), (model.utilization, model.top1),
                            arrowprops={"arrowstyle": "->", "color": "tab:green"})
        ax.set(xlabel=x.replace("images_per_s", "images/s"), ylabel=y,
               xscale="log" if x == "images_per_s" else "linear")
    axes[0].set_title("blue: intensity >= op:byte, orange: below; ringed: frontier", fontsize=8)
    return figure


def comm_figure(records: Sequence[dict], model: str) -> Figure:
    """Communication per step against workers, one line per strategy (seed 002 Eqn 3.3/3.4)."""
    figure, axes = plt.subplots(figsize=(6, 4))
    for strategy in dict.fromkeys(r["strategy"] for r in records):
        mine = [r for r in records if r["strategy"] == strategy]
        axes.plot([r["workers"] for r in mine], [r["comm_ms"] for r in mine], marker="o", label=strategy)
    axes.set(xscale="log", yscale="log", xlabel="workers p", ylabel="communication per step (ms)",
             title=f"{model}: gradient communication (seed 002 Eqn 3.3/3.4)")
    axes.legend()
    return figure
