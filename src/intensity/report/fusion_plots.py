"""Seed 001 Fig. 8 / Fig. 12: one "well" per block configuration, layer-wise kernels then the
block-fusion kernel, bar width = minimum latency, height = operational intensity."""
from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from intensity.analysis.fusion_grid import GridPoint
from intensity.report.plots import plt

LAYER_COLORS = {"conv": "#ff7f0e", "fused": "#2ca02c", "other": "#9467bd"}


def _kernel_color(op: str, detail: str, fused: bool) -> str:
    if fused:
        return LAYER_COLORS["fused"]
    if op == "conv":
        return "#1f77b4" if "1x1" in detail else "#ff7f0e"  # pointwise vs grouped/other conv
    return LAYER_COLORS["other"]


def fusion_grid_figure(points: Sequence[GridPoint], title: str) -> Figure:
    figure, axes = plt.subplots(figsize=(12, 4.5))
    start, ticks, top = 0.0, [], 0.0
    for point in points:
        begin = start
        for prediction, fused in ((point.layer, False), (point.fused, True)):
            for kernel, bound in zip(prediction.report.kernels, prediction.line.kernels):
                width = bound.latency * 1e6
                axes.bar(start, bound.intensity, width=width, align="edge", edgecolor="white", linewidth=0.3,
                         color=_kernel_color(kernel.op, kernel.detail, fused))
                top = max(top, bound.intensity)
                start += width
        ticks.append(((begin + start) / 2, f"{point.label}\n{point.layer.latency * 1e6:.0f} / "
                                           f"{point.fused.latency * 1e6:.0f} us"))
        start += 0.03 * start + 50  # a gap between wells
    op_byte = points[0].layer.line.op_byte if points else 0.0
    axes.axhline(op_byte, color="black", linestyle="--")
    handles = [Line2D([], [], color="black", linestyle="--", label=f"waterline (op:byte {op_byte:.0f})")]
    handles += [Patch(color=color, label=name) for name, color in (
        ("pointwise conv", "#1f77b4"), ("grouped conv", "#ff7f0e"),
        ("pool, multiply or norm", LAYER_COLORS["other"]), ("block fusion", LAYER_COLORS["fused"]))]
    axes.set_xticks([t for t, _ in ticks], [label for _, label in ticks], fontsize=7, rotation=30, ha="right")
    axes.set(xlabel="minimum attainable latency (us): layer-wise / block fusion",
             ylabel="operational intensity (flop/B)", ylim=(0, max(top, op_byte) * 1.15), title=title)
    axes.legend(handles=handles, loc="upper left", fontsize=8)
    return figure
