"""Commands that run models on this machine: measure, gap, largest-batch. Each declares its options,
calls one operation (intensity.ops.measure) and emits its result."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from intensity.cli._app import (
    BandwidthOpt, BatchOpt, DtypeOpt, FormatOpt, ItersOpt, MeasureAmpOpt, OnOpt, OutOpt, PeakOpt, ThreadsOpt, TrialsOpt, app, call,
    check_out, emit, guarded, model_command, model_request, nonempty_path,
)
from intensity.ops import ModelRequest
from intensity.ops import measure as ops

MeasuredDeviceOpt = "spec whose peak utilization is taken against (default: measured, this machine's)"


@model_command("measure", batch=32, fusion=False, device_default="measured", device_help=MeasuredDeviceOpt,
               amp=MeasureAmpOpt)
def measure(
    request: ModelRequest,
    on: OnOpt = "cpu",
    iters: ItersOpt = 10,
    trials: TrialsOpt = 3,
    channels_last: Annotated[bool, typer.Option("--channels-last")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model first")] = False,  # noqa: A002
    energy: Annotated[bool, typer.Option("--energy", help="also sample GPU power (NVML): J/image, EPP, MACs/J")] = False,
    threads: ThreadsOpt = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Measure images/s, utilization (seed 003) and the efficiency gap (seed 001) on this machine.
    On the CPU the dtype defaults to fp32, bf16 with --amp (give --dtype to choose)."""
    check_out(out, request.input_files())
    result = call(f"measuring {request.model}", ops.run_measure, ops.MeasureRequest(
        request, on=on, iters=iters, trials=trials, channels_last=channels_last, compile=compile, threads=threads,
        energy=energy))
    emit(result, format, out, inputs=request.input_files())


@app.command()
def gap(
    models: Annotated[list[str], typer.Argument(help="models of one family, smallest first")],
    accuracy: Annotated[Optional[str], typer.Option(help="their accuracies, comma-separated (needed for the plots)")] = None,
    batch: BatchOpt = 32,
    dtype: DtypeOpt = None,
    on: OnOpt = "cpu",
    device: Annotated[str, typer.Option(help=MeasuredDeviceOpt)] = "measured",
    peak_tflops: PeakOpt = None,
    bandwidth_gbs: BandwidthOpt = None,
    iters: ItersOpt = 5,
    trials: TrialsOpt = 3,
    plots: Annotated[Optional[str], typer.Option(help="write the gap and Pareto figures (PNG, SVG) here; needs --accuracy",
                                                 callback=nonempty_path)] = None,
    threads: ThreadsOpt = None,
    amp: MeasureAmpOpt = False,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Ideal vs actual latency and computational efficiency for a family of models (seed 001 Fig. 1)."""
    accuracies = guarded(lambda: _accuracies(accuracy, len(models)))
    request = guarded(lambda: model_request(models[0], batch=batch, dtype=dtype, device=device,
                                            peak_tflops=peak_tflops, bandwidth_gbs=bandwidth_gbs, amp=amp))
    check_out(out, request.input_files())
    if plots is not None:
        guarded(lambda: _check_plots(plots, accuracy))
    result = call("measuring the family", ops.run_gap, models, ops.MeasureRequest(
        request, on=on, iters=iters, trials=trials, threads=threads), accuracies)
    emit(result, format, out, inputs=request.input_files())
    if plots is not None:
        from intensity.report import plots as figures

        figures.save(figures.gap_figure(result.records, f"efficiency gap, batch {batch}"), plots, "efficiency_gap")
        figures.save(figures.pareto_figure(result.records), plots, "pareto")
        typer.echo(f"wrote figures to {plots}", err=True)


def _check_plots(plots: str, accuracy: str | None) -> None:
    from intensity.output import check_output

    if not accuracy:
        raise ValueError("--plots draws accuracy against latency: give --accuracy too")
    check_output(plots, option="--plots", directory=True)


def _accuracies(text: str | None, count: int) -> list[float | None]:
    if not text:
        return [None] * count
    try:
        values = [float(a) for a in text.split(",")]
    except ValueError:
        raise ValueError(f"malformed --accuracy {text!r}: expected numbers such as 71.2,75.4") from None
    if len(values) != count:
        raise ValueError(f"--accuracy has {len(values)} values for {count} models")
    if any(not 0 <= v <= 100 for v in values):
        raise ValueError(f"--accuracy {text!r}: accuracies are fractions or percentages in [0, 100]")
    return values


@model_command("largest-batch", batch=None, fusion=False, device=False)
def largest_batch_command(
    request: ModelRequest,
    on: OnOpt = "cpu",
    memory_gb: Annotated[float, typer.Option(help="--on cpu: memory budget for the estimate", min=0.001)] = 8.0,
    limit: Annotated[int, typer.Option(help="largest batch to try", min=1)] = 1 << 16,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """The largest batch that fits: real runs on CUDA (until out of memory), an estimate on CPU."""
    check_out(out, request.input_files())
    result = call(f"largest batch of {request.model}", ops.run_largest_batch, request, on=on, memory_gb=memory_gb,
                  limit=limit)
    emit(result, format, out, inputs=request.input_files())
