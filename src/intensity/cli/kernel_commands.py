"""Commands for block-fusion kernels: fuse (with --check), fusion-grid (seed 001 Fig. 8/12, §6.2)."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

import typer

from intensity.cli._app import (
    BatchOpt, DtypeOpt, FormatOpt, InputOpt, ModelArg, OutOpt, app, check_out_dir, check_out_file, emit,
    fail, guarded, nonempty_path, note,
)


@app.command("fuse")
def fuse_command(
    model: ModelArg,
    check: Annotated[bool, typer.Option("--check", help="run original and fused model on one random "
                                                       "batch and print the max. difference")] = False,
    batch: BatchOpt = 2,
    input: InputOpt = None,  # noqa: A002
    on: Annotated[Literal["cpu", "cuda"], typer.Option("--on", help="where to run the check")] = "cpu",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Replace a model's ConvFirst and MBConv blocks by block-fusion kernels (seed 001 5)."""
    import torch

    from intensity.api import parse_input_shape
    from intensity.kernels.fuse import check_fuse, fuse
    from intensity.models import resolve_model

    guarded(lambda: check_out_file(out))
    if on == "cuda" and not torch.cuda.is_available():
        fail("--on cuda: no CUDA device here; use --on cpu")
    resolved = guarded(lambda: resolve_model(model))
    shape = guarded(lambda: parse_input_shape(input)) if input else resolved.input_shape
    result = guarded(lambda: check_fuse(resolved.module, shape, batch=batch, device=on)) if check else None
    report = result.report if result else fuse(resolved.module)[1]
    if not report.replaced and not report.unchanged:
        note(f"no supported blocks (ConvFirst, MBConv; the fused kernels cover their FFN) found in {model}; "
             f"nothing was fused, so the model runs unchanged")
    data = {"model": model, "backend": report.backend,
            "replaced": [{"path": p, "block": b} for p, b in report.replaced],
            "unchanged": [{"path": p, "block": b, "reason": r} for p, b, r in report.unchanged]}
    if result:
        data |= {"input": [batch, *shape], "max_abs_diff": result.max_abs_diff,
                 "max_abs_output": result.max_abs_output}
    emit(format, data, lambda: _fuse_tables(data), out)


def _fuse_tables(data: dict) -> list:
    from rich.table import Table

    counts: dict[str, int] = {}
    for row in data["replaced"]:
        counts[row["block"]] = counts.get(row["block"], 0) + 1
    summary = Table(title=f"{data['model']}: block fusion ({data['backend']})", title_justify="left")
    for column in ("block", "fused", "left unchanged"):
        summary.add_column(column, justify="left" if column == "block" else "right")
    for block in sorted({*counts, *(r["block"] for r in data["unchanged"])}):
        summary.add_row(block, str(counts.get(block, 0)), str(sum(r["block"] == block for r in data["unchanged"])))
    tables: list = [summary]
    if data["unchanged"]:
        kept = Table(title="left unchanged", title_justify="left")
        for column in ("module", "block", "reason"):
            kept.add_column(column)
        for row in data["unchanged"]:
            kept.add_row(row["path"], row["block"], row["reason"])
        tables.append(kept)
    if "max_abs_diff" in data:
        check = Table(title=f"check on a random batch {'x'.join(map(str, data['input']))}", title_justify="left")
        check.add_column("max |original - fused|", justify="right")
        check.add_column("max |original|", justify="right")
        check.add_row(f"{data['max_abs_diff']:.3g}", f"{data['max_abs_output']:.3g}")
        tables.append(check)
    return tables


@app.command("fusion-grid")
def fusion_grid_command(
    block: Annotated[Literal["convfirst", "mbconv"], typer.Option(
        help="convfirst: seed 001 Fig. 8 grid; mbconv: Fig. 12 grid")] = "convfirst",
    device: Annotated[str, typer.Option(help="accelerator spec (the seed: a5000-base)")] = "a5000-base",
    batch: BatchOpt = 128,
    dtype: DtypeOpt = "fp16",
    network: Annotated[Optional[str], typer.Option(
        help="also a whole network's max. efficiency both ways (seed §6.2: convfirstnet-small)")] = "convfirstnet-small",
    plot: Annotated[Optional[str], typer.Option(help="write the Fig. 8/12 waterline plot (PNG, SVG) here", callback=nonempty_path)] = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Waterline of layer-wise vs block-fusion kernels over the seed's block grids."""
    from intensity.analysis.fusion_grid import fusion_grid, network_fusion

    guarded(lambda: check_out_file(out))
    if plot is not None:
        guarded(lambda: check_out_dir(plot, "--plot"))
    points = guarded(lambda: fusion_grid(block, device=device, dtype=dtype, batch=batch))
    whole = guarded(lambda: network_fusion(network, device=device, dtype=dtype, batch=batch)) \
        if network else None
    data = {"grid": [p.to_dict() for p in points], "network": whole.to_dict() if whole else None}
    emit(format, data, lambda: _grid_tables(block, data, device, batch, dtype), out,
         csv_text=lambda: _csv(data["grid"]))
    if plot is not None:
        from intensity.report.fusion_plots import fusion_grid_figure
        from intensity.report.plots import save

        figure = fusion_grid_figure(points, f"{block}: layer-wise vs block fusion, batch {batch}, {dtype}, {device}")
        paths = save(figure, plot, f"fusion_grid_{block}")
        note(f"plot written to {paths['png']} and {paths['svg']}")


def _csv(rows: list[dict]) -> str:
    from intensity.cli._app import to_csv

    return to_csv(rows)


def _grid_tables(block: str, data: dict, device: str, batch: int, dtype: str) -> list:
    from rich.table import Table

    figure = "Fig. 8" if block == "convfirst" else "Fig. 12"
    grid = Table(title=f"{block} blocks ({figure}): waterline latency, batch {batch}, {dtype}, {device}",
                 title_justify="left", caption="seed: minimum latencies printed under the wells of the seed's figure")
    columns = ("point", "layer kernels", "memory-bound", "layer us", "fused intensity", "fused bound",
               "fused us", "speedup", "layer eff.", "fused eff.", "seed us (layer / fused)")
    for column in columns:
        grid.add_column(column, justify="left" if column in ("point", "fused bound") else "right")
    for r in data["grid"]:
        seed = f"{r['seed_layer_us']} / {r['seed_fused_us']}" if r["seed_layer_us"] else "-"
        grid.add_row(r["point"], str(r["layer_kernels"]), str(r["layer_memory_bound"]), f"{r['layer_latency_us']:.0f}",
                     f"{r['fused_intensity']:.0f}", r["fused_bound"], f"{r['fused_latency_us']:.0f}",
                     f"{r['speedup']:.1f}x", f"{r['layer_efficiency']:.0%}", f"{r['fused_efficiency']:.0%}", seed)
    tables: list = [grid]
    if data["network"]:
        n = data["network"]
        whole = Table(title=f"{n['model']}: max. computational efficiency (seed §6.2: 36% layer-wise, 97% fused)",
                      title_justify="left")
        for column in ("kernels", "count", "waterline ms", "max. efficiency"):
            whole.add_column(column, justify="left" if column == "kernels" else "right")
        whole.add_row("layer-wise", str(n["layer_kernels"]), f"{n['layer_latency_ms']:.2f}", f"{n['layer_efficiency']:.1%}")
        whole.add_row("block fusion", str(n["fused_kernels"]), f"{n['fused_latency_ms']:.2f}", f"{n['fused_efficiency']:.1%}")
        tables.append(whole)
    return tables
