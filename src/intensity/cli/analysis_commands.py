"""Commands that count and predict: analyze, roofline, waterline, sweep-batch, calibrate-di, report,
devices, list-models."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from intensity.cli._app import (
    AttentionOpt, BatchOpt, BlockOpt, DeviceOpt, DtypeOpt, FormatOpt, FusionOpt, InputOpt, ModelArg, OnOpt, OutOpt,
    ThreadsOpt, app, check_out_dir, nonempty_path, check_out_file, emit, fail, flag_names, guarded, note, numbers,
    resolve_device, split, warn,
)
from intensity.cost.reuse import DEFAULT_ALPHA


@app.command()
def analyze(
    model: ModelArg,
    batch: BatchOpt = 1,
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp32",
    device: Annotated[Optional[str], typer.Option(
        help="accelerator spec (intensity devices), a .toml file, cpu or measured: adds op:byte and bound")] = None,
    fusion: FusionOpt = "trivial",
    block: BlockOpt = None,
    attention: AttentionOpt = "flash",
    only: Annotated[Optional[str], typer.Option(help="keep only these kernel kinds, e.g. conv,linear")] = None,
    alpha: Annotated[float, typer.Option(help="DI's activation-reuse weight in [0, 1] (seed 004)")] = DEFAULT_ALPHA,
    peak_tflops: Annotated[Optional[float], typer.Option(help="override the device's peak for --dtype")] = None,
    bandwidth_gbs: Annotated[Optional[float], typer.Option(help="override the device's bandwidth")] = None,
    top: Annotated[Optional[int], typer.Option(help="table: only the N kernels moving the most bytes", min=1)] = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Count every kernel's flops and DRAM bytes, intensity and reuse."""
    from intensity.api import analyze as run_analysis

    guarded(lambda: check_out_file(out))
    spec = resolve_device(device, dtype, peak_tflops, bandwidth_gbs)
    overrides = {} if spec is not device else {"peak_tflops": peak_tflops, "bandwidth_gbs": bandwidth_gbs}
    report = guarded(lambda: run_analysis(
        model, batch=batch, input_shape=input, dtype=dtype, device=spec, fusion=fusion,
        blocks=split(block), attention=attention, only=split(only), alpha=alpha, **overrides))

    def tables() -> list:
        from intensity.report.tables import kernel_table, totals_table

        return [kernel_table(report, top), totals_table(report)]

    emit(format, report, tables, out, csv_text=report.to_csv)
    if top is not None and format != "table":
        note(f"--top shapes the table only: {format} output lists every kernel")
    for text in report.notes:
        note(text)
    for text in report.warnings:  # `only` matching nothing, a batch no device holds
        warn(flag_names(text))


@app.command()
def roofline(
    model: ModelArg,
    device: DeviceOpt,
    batch: BatchOpt = 1,
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp16",
    fusion: FusionOpt = "trivial",
    block: BlockOpt = None,
    attention: AttentionOpt = "flash",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Roofline per kernel, waterline latency and efficiency, and Amdahl's roofline (seed 001)."""
    from intensity.analysis.predict import predict

    guarded(lambda: check_out_file(out))
    device = resolve_device(device, dtype)
    prediction = guarded(lambda: predict(model, device=device, dtype=dtype, batch=batch, input_shape=input,
                                         fusion=fusion, blocks=split(block), attention=attention))
    report, line = prediction.report, prediction.line
    if prediction.calibrated is not None:  # --device calibrated: calibrated vs roofline times
        from intensity.cli.calibrate_commands import show_calibrated

        return show_calibrated(prediction, format, out)

    def tables() -> list:
        from intensity.report.tables import roofline_table

        title = f"{report.model}: batch {batch}, {report.dtype} on {report.device['name']}, fusion {fusion}"
        return roofline_table(line, title)

    emit(format, line, tables, out, csv_text=lambda: _kernel_bounds_csv(line))


def _kernel_bounds_csv(line: object) -> str:
    from dataclasses import asdict

    from intensity.cli._app import to_csv

    return to_csv([asdict(k) for k in line.kernels])


@app.command("waterline")
def waterline_command(
    model: ModelArg,
    device: Annotated[str, typer.Option(help="accelerator spec: its own op:byte is added to the comparison and marked")],
    batch: BatchOpt = 128,
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp16",
    fusion: FusionOpt = "trivial",
    block: BlockOpt = None,
    attention: AttentionOpt = "flash",
    op_bytes: Annotated[str, typer.Option(help="other processor op:byte ratios to compare")] = "25,50,100,139,200,300,400,600",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Waterline vs the roofline of the mediant over processor op:byte ratios (seed 001 Fig. 4)."""
    from intensity.analysis.predict import predict
    from intensity.analysis.roofline import efficiency_vs_op_byte

    def run() -> tuple[list[dict], float]:
        ratios = numbers(op_bytes, float, "--op-bytes", "25,139,600")
        prediction = predict(model, device=device, dtype=dtype, batch=batch, input_shape=input,
                             fusion=fusion, blocks=split(block), attention=attention)
        own = prediction.spec.op_byte(dtype)
        rows = efficiency_vs_op_byte(prediction.report.kernels, sorted({*ratios, own}))
        return [{"op_byte": r, "waterline": w, "mediant": m, "device": prediction.spec.key if r == own else None}
                for r, w, m in rows], own

    guarded(lambda: check_out_file(out))
    device = resolve_device(device, dtype)
    rows, own = guarded(run)

    def tables() -> list:
        from rich.table import Table

        table = Table(title=f"{model}: max. computational efficiency, batch {batch}, {dtype}, fusion {fusion}",
                      title_justify="left", caption=f"marked: {device}'s own op:byte ({own:.1f} flop/B)")
        for column in ("op:byte", "waterline", "roofline of the mediant", "device"):
            table.add_column(column, justify="left" if column == "device" else "right")
        for row in rows:
            style = "bold" if row["device"] else None
            table.add_row(f"{row['op_byte']:g}", f"{row['waterline']:.1%}", f"{row['mediant']:.1%}",
                          row["device"] or "", style=style)
        return [table]

    emit(format, rows, tables, out)


@app.command("sweep-batch")
def sweep_batch_command(
    model: ModelArg,
    device: DeviceOpt,
    batches: Annotated[str, typer.Option(help="comma-separated batch sizes")] = "1,4,16,64,256,1024,4096",
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp16",
    fusion: FusionOpt = "trivial",
    block: BlockOpt = None,
    attention: AttentionOpt = "flash",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Intensity, attainable utilization and predicted throughput against batch size (seed 000 Fig. 3)."""
    from intensity.analysis.sweep import sweep_batch

    def run() -> list:
        sizes = numbers(batches, int, "--batches", "1,16,256")
        return sweep_batch(model, sizes, device=device, dtype=dtype, input_shape=input,
                           fusion=fusion, blocks=split(block), attention=attention)

    guarded(lambda: check_out_file(out))
    device = resolve_device(device, dtype)
    points = guarded(run)

    def tables() -> list:
        from intensity.report.tables import sweep_table

        return [sweep_table(points, f"{model}: {dtype} on {device}, fusion {fusion}")]

    emit(format, points, tables, out)


@app.command("calibrate-di")
def calibrate_di(
    table: Annotated[str, typer.Argument(help="CSV: model, energy_efficiency (MACs/J) [, flops, weights, activations]")],
    batch: Annotated[int, typer.Option("--batch", "-b", help="batch for models analysed here", min=1)] = 1,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Pick DI's alpha by Pearson r against measured energy efficiency, with Fisher-z intervals."""
    from intensity.analysis.calibration import calibrate_alpha, rows_from_table

    guarded(lambda: check_out_file(out))
    result = guarded(lambda: calibrate_alpha(rows_from_table(table, batch)))
    for text in getattr(result, "warnings", ()):
        warn(text)

    def tables() -> list:
        from intensity.report.tables import calibration_tables

        return calibration_tables(result)

    emit(format, result, tables, out, csv_text=lambda: _curve_csv(result))


def _curve_csv(result: object) -> str:
    from intensity.cli._app import to_csv

    return to_csv([{"alpha": a, "pearson_r": r} for a, r in result.curve])


@app.command()
def report(
    model: ModelArg,
    out: Annotated[str, typer.Option(help="a new or existing directory for report.html, report.json and figures/",
                                     callback=nonempty_path)],
    device: Annotated[str, typer.Option(help="accelerator spec for the predictions")] = "h100",
    batch: BatchOpt = 256,
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp16",
    fusion: FusionOpt = "trivial",
    block: BlockOpt = None,
    attention: AttentionOpt = "flash",
    measure: Annotated[bool, typer.Option("--measure", help="also measure on this machine (--on)")] = False,
    on: OnOpt = "cpu",
    measure_batch: Annotated[int, typer.Option(help="batch for the measurement", min=1)] = 64,
    accuracy: Annotated[Optional[float], typer.Option(help="with --measure: the model's accuracy, for the efficiency-gap figure")] = None,
    threads: ThreadsOpt = None,
) -> None:
    """Write a self-contained HTML report (figures embedded) and report.json for MODEL."""
    from intensity.cli.measure_commands import measured_record
    from intensity.report.html import write_report

    guarded(lambda: check_out_dir(out))
    if accuracy is not None and not measure:
        fail("--accuracy labels the measurement: give --measure too")
    record = None
    if measure:
        measure_dtype = "fp32" if on == "cpu" else dtype  # CPUs have no fast fp16 kernels
        record = measured_record(model, batch=measure_batch, input=input, dtype=measure_dtype, on=on,
                                 device="measured", iters=5, trials=3, channels_last=on == "cuda",
                                 accuracy=accuracy, threads=threads)
    device = resolve_device(device, dtype)
    summary = guarded(lambda: write_report(model, out, device=device, dtype=dtype, batch=batch,
                                           fusion=fusion, blocks=tuple(split(block)), input_shape=input,
                                           attention=attention, measure=record))
    for line in summary["advice"]:
        typer.echo(f"- {line}")
    typer.echo(f"wrote {out / 'report.html'} and {out / 'report.json'}", err=True)


@app.command()
def devices(
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """List the bundled accelerator specs (peak per dtype, bandwidth, op:byte)."""
    from intensity.hardware import list_specs

    guarded(lambda: check_out_file(out))
    specs = list_specs()

    def tables() -> list:
        from intensity.report.tables import devices_table

        return [devices_table(specs)]

    emit(format, specs, tables, out)


@app.command("list-models")
def list_models_command(
    pattern: Annotated[str, typer.Argument(help="part of a name ('squeeze') or a glob ('noscope-*')")] = "*",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """List the zoo: name, family, input size, params and flops at batch 1."""
    from intensity.api import analyze as run_analysis
    from intensity.models import model_entries

    guarded(lambda: check_out_file(out))
    entries = model_entries(pattern)
    if not entries:
        fail(f"no zoo model matches {pattern!r}; run `intensity list-models` for all of them")
    rows = [(entry, report.totals.params, report.totals.flops)
            for entry in entries for report in [run_analysis(entry.name, batch=1)]]
    records = [{"name": e.name, "family": e.family, "input_shape": list(e.input_shape),
                "num_classes": e.num_classes, "params": p, "flops": f} for e, p, f in rows]

    def tables() -> list:
        from intensity.report.tables import models_table

        return [models_table(rows)]

    emit(format, records, tables, out)
