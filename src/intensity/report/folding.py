"""Grids of the folding commands: predicted folding (seed 000 3, App. H, J), measured folding,
compound scaling (5.3) and the cascade trade-off (App. G)."""
from __future__ import annotations

from collections.abc import Sequence

from intensity.analysis.predict import BOUND_KIND, estimate_kind
from intensity.report.tables import Grid


def fold_grids(model: str, predictions: Sequence[object], device: str, dtype: str) -> list[Grid]:
    """A summary row per f, then each f's per-layer predictions."""
    columns = ("f", "batch", "intensity", "ratio (sqrt f)", "bound: waterline ms / batch", "bound: utilization",
               "bound: speedup", "estimate: ms / batch", "estimate: speedup")
    rows = [(str(p.f), f"{p.batch} -> {-(-p.batch // p.f)}", f"{p.intensity_before:.1f} -> {p.intensity_after:.1f}",
             f"{p.intensity_ratio:.2f} ({p.f ** 0.5:.2f})",
             f"{p.latency_before * 1e3:.3f} -> {p.latency_after * 1e3:.3f}",
             f"{p.utilization_before:.0%} -> {p.utilization_after:.0%}", f"{p.speedup:.2f}x", *_estimated(p))
            for p in predictions]
    first = predictions[0] if predictions else None
    estimate = estimate_kind(first.estimate_runtime, first.estimate_profile) if first else ""
    summary = Grid(f"{model} folded: predicted on {device}, {dtype}", columns, rows,
                   caption=f"{BOUND_KIND}; {estimate or 'no estimate: only GPU specs and calibrated devices have one'}")
    return [summary, *(_layer_grid(p) for p in predictions)]


def _estimated(p: object) -> tuple[str, str]:
    if p.estimated_speedup is None:
        return "-", "-"
    return (f"{p.estimated_latency_before * 1e3:.3f} -> {p.estimated_latency_after * 1e3:.3f}",
            f"{p.estimated_speedup:.2f}x")


def _layer_grid(prediction: object) -> Grid:
    columns = ("layer", "kind", "in/out", "MFLOP/image", "intensity", "ratio", "traffic falls (App. J)",
               "tile warning (App. H)")
    rows = []
    for row in prediction.layers:
        falls = "-" if row.traffic_falls is None else ("yes" if row.traffic_falls else "no")
        rows.append((row.name, row.kind, f"{row.widths_before[0]}x{row.widths_before[1]} -> "
                     f"{row.widths_after[0]}x{row.widths_after[1]}",
                     f"{row.flops_per_image_before / 1e6:.2f} -> {row.flops_per_image_after / 1e6:.2f}",
                     f"{row.intensity_before:.1f} -> {row.intensity_after:.1f}", f"{row.intensity_ratio:.2f}",
                     falls, row.tile_warning))
    return Grid(f"f = {prediction.f}: per layer", columns, rows, ("layer", "kind", "tile warning (App. H)"))


def bench_fold_grid(title: str, results: Sequence[object]) -> Grid:
    """Measured original (f = 1) vs folded throughput at the same images per step."""
    columns = ("f", "images/s", "with fold/unfold", "utilization", "speedup", "speedup with reshape", "spread")
    rows = [(str(r.f), f"{r.images_per_s:,.0f}", f"{r.images_per_s_with_reshape:,.0f}", f"{r.utilization:.1%}",
             f"{r.speedup:.2f}x", f"{r.speedup_with_reshape:.2f}x",
             f"{r.spread:.0%}" + (" busy" if r.busy else "")) for r in results]
    return Grid(title, columns, rows)


def scale_grid(title: str, rows: Sequence[dict]) -> Grid:
    """The original model beside its compound-scaled variant."""
    columns = ("model", "input", "params", "MFLOP/image", "intensity", "utilization", "images/s")
    cells = [(r["model"], "x".join(map(str, r["input_shape"])), f"{r['params']:,}", f"{r['flops_per_image'] / 1e6:.2f}",
              f"{r['intensity']:.1f}", f"{r['utilization']:.0%}", f"{r['images_per_s']:,.0f}") for r in rows]
    return Grid(title, columns, cells, ("model",))


def cascade_grid(record: dict) -> Grid:
    """App. G's break-even ratio T_g / T_s and, given the cascade's own ratio, the verdict."""
    rows = [("the cascade gets faster while T_g / T_s <", f"{record['break_even']:.1f}x"),
            ("rule", "T_g / T_s < (1 - 1/x) / a")]
    if record.get("verdict"):
        rows.append(("your cascade", f"with T_g / T_s = {record['relative_cost']:g} the cascade gets "
                                     f"{record['verdict']}"))
    title = (f"cascade: filter {record['speedup']:g}x faster, accuracy drop a = {record['accuracy_drop']:g}: "
             f"the cascade gets faster while the general CNN is less than {record['break_even']:.1f}x slower "
             f"than the specialized CNN")
    return Grid(title, ("", "value"), rows, ("", "value"), header=False)
