"""Commands that transform models: fold, bench-fold, scale, cascade."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from intensity.cli._app import (
    BatchOpt, DtypeOpt, FusionOpt, InputOpt, ItersOpt, ModelArg, OnOpt, OutOpt, PeakDeviceOpt,
    TableJson, TableJsonCsv, ThreadsOpt, TrialsOpt, app, check_out_file, emit, factors, guarded, note, resolve_device, warn,
)

FactorsOpt = Annotated[str, typer.Option("-f", "--factors", help="folding factors, comma-separated")]
# fold and bench-fold use -f for the factors, so --format has no short form there.
FoldFormatOpt = Annotated[TableJsonCsv, typer.Option("--format", help="table, json or csv")]


@app.command()
def fold(
    model: ModelArg,
    f: FactorsOpt = "2,3,4",
    batch: BatchOpt = 1024,
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp16",
    device: Annotated[str, typer.Option(help="accelerator spec for the predictions")] = "v100",
    fusion: FusionOpt = "trivial",
    rounding: Annotated[str, typer.Option(help="floor or multiple-of-8")] = "floor",
    format: FoldFormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Predict what folding by f buys, per layer and in total, before training (seed 000)."""
    from intensity.analysis.folding import predict_folding
    from intensity.api import parse_input_shape

    def run() -> list:
        shape = parse_input_shape(input) if input else None
        return predict_folding(model, factors(f), batch=batch, dtype=dtype, device=device, fusion=fusion,
                               rounding=rounding, input_shape=shape)

    guarded(lambda: check_out_file(out))
    device = resolve_device(device, dtype)
    predictions = guarded(run)
    records = [{**p.to_dict()} if hasattr(p, "to_dict") else _prediction_dict(p) for p in predictions]

    def tables() -> list:
        from intensity.report.tables import fold_tables

        return fold_tables(model, predictions, device, dtype)

    emit(format, records, tables, out)
    for text in _fold_notes(predictions):
        note(text)


def _prediction_dict(prediction: object) -> dict:
    from dataclasses import asdict

    return {**asdict(prediction), "speedup": prediction.speedup, "intensity_ratio": prediction.intensity_ratio}


def _fold_notes(predictions: list) -> list[str]:
    notes = [text for p in predictions for text in getattr(p, "notes", ())]
    return list(dict.fromkeys(notes))


@app.command("bench-fold")
def bench_fold(
    model: ModelArg,
    f: FactorsOpt = "2,3,4",
    batch: Annotated[int, typer.Option("--batch", "-b", help="images per step", min=1)] = 1024,
    dtype: DtypeOpt = "fp32",
    on: OnOpt = "cpu",
    device: PeakDeviceOpt = "measured",
    iters: ItersOpt = 10,
    trials: TrialsOpt = 3,
    channels_last: Annotated[bool, typer.Option("--channels-last")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile each model first")] = False,  # noqa: A002
    threads: ThreadsOpt = None,
    format: FoldFormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
    runtime: Annotated[str, typer.Option(help="torch (eager) or onnxruntime (ONNX export, CPU fp32)")] = "torch",
) -> None:
    """Measure original vs folded throughput at the same images per step (seed 000 5)."""
    from intensity.cli._app import progress
    from intensity.hardware import get_spec
    from intensity.measure.folding import bench_folding
    from intensity.models import resolve_model

    def run(report) -> list:  # noqa: ANN001
        fs = factors(f)
        report("building the model", 0, None)
        resolved = resolve_model(model)
        peak = get_spec(device, dtype, threads=threads, progress=report).peak_flops(dtype)
        return bench_folding(resolved.module, resolved.input_shape, fs, batch=batch, device=on, dtype=dtype,
                             peak_flops=peak, iters=iters, trials=trials, channels_last=channels_last,
                             compile=compile, threads=threads, progress=report, runtime=runtime)

    guarded(lambda: check_out_file(out))
    with progress(f"bench-fold {model}") as report:
        results = guarded(lambda: run(report))

    def tables() -> list:
        from rich.table import Table

        table = Table(title=f"{model}: measured, batch {batch}, {dtype} on {on}, {runtime}", title_justify="left")
        for column in ("f", "images/s", "with fold/unfold", "utilization", "speedup", "speedup with reshape",
                       "spread"):
            table.add_column(column, justify="right")
        for r in results:
            table.add_row(str(r.f), f"{r.images_per_s:,.0f}", f"{r.images_per_s_with_reshape:,.0f}",
                          f"{r.utilization:.1%}", f"{r.speedup:.2f}x", f"{r.speedup_with_reshape:.2f}x",
                          f"{r.spread:.0%}" + (" busy" if r.busy else ""))
        return [table]

    emit(format, results, tables, out)
    if any(r.busy for r in results):
        warn("trials spread more than 10%: the machine was busy; measure again before comparing speedups")


@app.command()
def scale(
    model: ModelArg,
    phi: Annotated[float, typer.Option(help="compound coefficient (negative: smaller)")] = -1.0,
    batch: BatchOpt = 1024,
    dtype: DtypeOpt = "fp16",
    device: Annotated[str, typer.Option(help="accelerator spec for the predictions")] = "v100",
    format: Annotated[TableJson, typer.Option("--format", help="table or json")] = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """EfficientNet compound scaling (depth alpha^phi, width beta^phi, resolution gamma^phi): before vs after."""
    from intensity.analysis.predict import predict
    from intensity.models import resolve_model
    from intensity.transforms.scaling import compound_scale

    def run() -> tuple[list[dict], list[str]]:
        resolved = resolve_model(model, meta=True)  # only analysed: no weights allocated
        scaled = compound_scale(resolved.module, resolved.input_shape, phi, meta=True)
        rows = []
        for label, module, shape in (("original", resolved.module, resolved.input_shape),
                                     (f"phi={phi:g}", scaled.model, scaled.input_shape)):
            p = predict(module, device=device, dtype=dtype, batch=batch, input_shape=shape)
            rows.append({"model": label, "input_shape": list(shape), "params": p.report.totals.params,
                         "flops_per_image": p.report.totals.flops / batch, "intensity": p.report.totals.intensity,
                         "utilization": p.utilization, "images_per_s": p.images_per_s})
        return rows, scaled.notes

    guarded(lambda: check_out_file(out))
    rows, notes = guarded(run)

    def tables() -> list:
        from rich.table import Table

        table = Table(title=f"{model}: compound scaling on {device}, {dtype}, batch {batch}", title_justify="left")
        for column in ("model", "input", "params", "MFLOP/image", "intensity", "utilization", "images/s"):
            table.add_column(column, justify="left" if column == "model" else "right")
        for r in rows:
            table.add_row(r["model"], "x".join(map(str, r["input_shape"])), f"{r['params']:,}",
                          f"{r['flops_per_image'] / 1e6:.2f}", f"{r['intensity']:.1f}",
                          f"{r['utilization']:.0%}", f"{r['images_per_s']:,.0f}")
        return [table]

    emit(format, rows, tables, out)
    for text in notes:
        note(text)


@app.command()
def cascade(
    speedup: Annotated[float, typer.Option(help="throughput gain x (> 1) of the folded specialized CNN")],
    accuracy_drop: Annotated[float, typer.Option(help="its accuracy drop a, as a fraction (0.0021 = 0.21%)")],
    relative_cost: Annotated[Optional[float], typer.Option(help="T_g / T_s of your cascade, to check it")] = None,
) -> None:
    """Seed 000 App. G: does a faster but less accurate filter speed up a filter -> general-CNN cascade?"""
    from intensity.transforms.folding import cascade_break_even

    def run() -> float:
        if not speedup > 1:
            raise ValueError(f"--speedup {speedup:g}: a folded CNN that is not faster (x <= 1) can never "
                             f"speed up the cascade; give the measured gain, e.g. --speedup 2.5")
        if relative_cost is not None and not relative_cost > 0:
            raise ValueError(f"--relative-cost must be positive (T_g / T_s), got {relative_cost:g}")
        return cascade_break_even(speedup, accuracy_drop)

    limit = guarded(run)
    typer.echo(f"the cascade gets faster while the general CNN is less than {limit:.1f}x slower than the "
               f"specialized CNN (T_g / T_s < (1 - 1/x) / a)")
    if relative_cost is not None:
        verdict = "faster" if relative_cost < limit else "slower"
        typer.echo(f"with T_g / T_s = {relative_cost:g} the cascade gets {verdict}")
