"""Commands that count and predict: analyze, roofline, waterline, sweep-batch, calibrate-di, report,
devices, list-models, config. Each declares its options, calls one operation (intensity.ops.analysis)
and emits its result."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from intensity.cli._app import (
    FormatOpt, OnOpt, OutOpt, ThreadsOpt, app, call, check_out, emit, fail, given, guarded, model_command, nonempty_path,
    note, numbers, split,
)
from intensity.cost.reuse import DEFAULT_ALPHA
from intensity.ops import ModelRequest
from intensity.ops import analysis as ops

OnlyOpt = Annotated[Optional[str], typer.Option(help="keep only these kernel kinds, e.g. conv,linear")]
AlphaOpt = Annotated[float, typer.Option(help="DI's activation-reuse weight in [0, 1] (seed 004)")]
TopOpt = Annotated[Optional[int], typer.Option(help="table: only the N kernels moving the most bytes", min=1)]


@model_command("analyze", batch=1, amp=True)
def analyze(request: ModelRequest, only: OnlyOpt = None, alpha: AlphaOpt = DEFAULT_ALPHA, top: TopOpt = None,
            format: FormatOpt = "table", out: OutOpt = None) -> None:  # noqa: A002
    """Count every kernel's flops and DRAM bytes, intensity and reuse."""
    check_out(out, request.input_files())
    result = call(f"analysing {request.model}", ops.run_analyze, request, only=split(only), alpha=alpha, top=top)
    emit(result, format, out, inputs=request.input_files())
    if top is not None and format != "table":
        note(f"--top shapes the table only: {format} output lists every kernel")


@model_command("roofline", batch=1, estimate=True, amp=True)
def roofline(request: ModelRequest, format: FormatOpt = "table", out: OutOpt = None) -> None:  # noqa: A002
    """Roofline per kernel, waterline latency and efficiency, and Amdahl's roofline (seed 001); on
    --device calibrated[:FILE], each kernel's calibrated time next to its roofline time."""
    check_out(out, request.input_files())
    result = call(f"predicting {request.model}", ops.run_roofline, request)
    emit(result, format, out, inputs=request.input_files())


@model_command("waterline", batch=128, amp=True, device_help="accelerator spec: its own op:byte is added to the comparison "
                                                   "and marked (default: see `intensity config`)")
def waterline_command(
    request: ModelRequest,
    op_bytes: Annotated[str, typer.Option(help="other processor op:byte ratios to compare")] = "25,50,100,139,200,300,400,600",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Waterline vs the roofline of the mediant over processor op:byte ratios (seed 001 Fig. 4)."""
    check_out(out, request.input_files())
    ratios = guarded(lambda: numbers(op_bytes, float, "--op-bytes", "25,139,600"))
    result = call(f"predicting {request.model}", ops.run_waterline, request, ratios)
    emit(result, format, out, inputs=request.input_files())


@model_command("sweep-batch", batch=None, estimate=True, amp=True)
def sweep_batch_command(
    request: ModelRequest,
    batches: Annotated[str, typer.Option(help="comma-separated batch sizes")] = "1,4,16,64,256,1024,4096",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Intensity, attainable utilization and predicted throughput against batch size (seed 000 Fig. 3)."""
    check_out(out, request.input_files())
    sizes = guarded(lambda: numbers(batches, int, "--batches", "1,16,256"))
    result = call(f"sweeping {request.model}", ops.run_sweep_batch, request, sizes)
    emit(result, format, out, inputs=request.input_files())


@app.command("calibrate-di")
def calibrate_di(
    table: Annotated[str, typer.Argument(help="CSV: model, energy_efficiency (MACs/J) [, flops, weights, activations]")],
    batch: Annotated[int, typer.Option("--batch", "-b", help="batch for models analysed here", min=1)] = 1,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Pick DI's alpha by Pearson r against measured energy efficiency, with Fisher-z intervals."""
    check_out(out, [table])
    result = guarded(lambda: ops.run_calibrate_di(table, batch=batch))
    emit(result, format, out, inputs=[table])


@model_command("report", batch=256, estimate=True)
def report(
    request: ModelRequest,
    out: Annotated[str, typer.Option(help="a new or existing directory for report.html, report.json and figures/",
                                     callback=nonempty_path)],
    measure: Annotated[bool, typer.Option("--measure", help="also measure on this machine (--on)")] = False,
    on: OnOpt = "cpu",
    measure_batch: Annotated[int, typer.Option(help="batch for the measurement", min=1)] = 64,
    accuracy: Annotated[Optional[float], typer.Option(help="with --measure: the model's accuracy, for the efficiency-gap figure")] = None,
    threads: ThreadsOpt = None,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Write a self-contained HTML report (figures embedded) and report.json for MODEL."""
    from intensity.ops.measure import MeasureRequest, run_measure

    check_out(out, request.input_files(), directory=True)
    if accuracy is not None and not measure:
        fail("--accuracy labels the measurement: give --measure too")
    unused = [flag for flag, name in (("--on", "on"), ("--measure-batch", "measure_batch"), ("--threads", "threads"))
              if given(name)]
    if unused and not measure:  # they only shape the measurement: never ignore them silently
        fail(f"{', '.join(unused)} set how the report measures: give --measure too, or leave them out")
    record, measured = None, None
    if measure:
        measure_dtype = "fp32" if on == "cpu" else request.dtype  # CPUs have no fast fp16 kernels
        measured = call(f"measuring {request.model}", run_measure, MeasureRequest(
            request.but(batch=measure_batch, dtype=measure_dtype, device="measured"), on=on, iters=5, trials=3,
            channels_last=on == "cuda", accuracy=accuracy, threads=threads))
        record = measured.records[0]
    result = call(f"reporting on {request.model}", ops.run_report, request, out, measurement=record)
    if measured is not None:  # the measurement's notes and warnings (a busy machine) belong to the report
        result.notes[:0], result.warnings[:0] = measured.notes, measured.warnings
    emit(result, format)
    typer.echo(f"wrote {out}/report.html and {out}/report.json", err=True)


@app.command()
def devices(format: FormatOpt = "table", out: OutOpt = None) -> None:  # noqa: A002
    """List the bundled accelerator specs (peak per dtype, bandwidth, op:byte)."""
    check_out(out)
    emit(guarded(ops.run_devices), format, out)


@app.command("list-models")
def list_models_command(
    pattern: Annotated[str, typer.Argument(help="part of a name ('squeeze') or a glob ('noscope-*')")] = "*",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """List the zoo: name, family, input size, params and flops at batch 1."""
    check_out(out)
    emit(call("counting the zoo", ops.run_list_models, pattern), format, out)


@app.command("config")
def config_command(format: FormatOpt = "table", out: OutOpt = None) -> None:  # noqa: A002
    """Show the default dtype and device every command uses, and where each came from
    (INTENSITY_DTYPE / INTENSITY_DEVICE, the config file INTENSITY_CONFIG or
    ~/.config/intensity/config.toml, else built-in fp16 on h100)."""
    check_out(out)
    emit(guarded(ops.run_config), format, out)
