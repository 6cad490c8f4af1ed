"""Commands that transform models: fold, bench-fold, scale, cascade.

Declarations only: each command builds a request, calls one operation (intensity.ops.fold) and
emits its result.
"""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from intensity.cli._app import (
    FormatOpt, FusionOpt, InputOpt, ItersOpt, ModelArg, OnOpt, OutOpt, PeakDeviceOpt, ThreadsOpt,
    TrialsOpt, app, call, check_out, emit, factors, guarded, model_command,
)
from intensity.ops import ModelRequest
from intensity.ops._base import BUILT_IN, GIVEN
from intensity.ops import fold as ops

def _bench_runtime_option():  # noqa: ANN202
    from intensity.cli._app import _choices
    from intensity.measure.onnx_runtime import RUNTIMES

    engines = ", ".join(f"{name} ({what})" for name, what in RUNTIMES.items())
    return Annotated[_choices(RUNTIMES), typer.Option(help=f"the inference engine timed: {engines}")]


BenchRuntimeOpt = _bench_runtime_option()
FactorsOpt = Annotated[str, typer.Option("-f", "--factors", help="folding factors, comma-separated")]
PREDICTION_DEVICE = "accelerator spec for the predictions (default: the configured device, see `intensity config`)"


@model_command("fold", batch=1024, device_help=PREDICTION_DEVICE, fusion=False, estimate=True)
def fold(
    request: ModelRequest,
    f: FactorsOpt = "2,3,4",
    fusion: FusionOpt = "trivial",
    rounding: Annotated[str, typer.Option(help="floor or multiple-of-8")] = "floor",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Predict what folding by f buys, per layer and in total, before training (seed 000)."""
    out = check_out(out, request.input_files())
    fs = guarded(lambda: factors(f))
    result = call(f"fold {request.model}", ops.run_fold, request.but(fusion=fusion), fs, rounding)
    emit(result, format, out, inputs=request.input_files())


BENCH_DTYPE, BENCH_DEVICE = "fp32", "measured"  # a timed run here: this machine's own dtype and peak


@app.command("bench-fold")
def bench_fold(
    model: ModelArg,
    f: FactorsOpt = "2,3,4",
    batch: Annotated[int, typer.Option("--batch", "-b", help="images per step", min=1)] = 1024,
    input: InputOpt = None,  # noqa: A002
    dtype: Annotated[Optional[str], typer.Option(
        help="fp32, fp16 or bf16: the dtype the models run in here [default: fp32]")] = None,
    on: OnOpt = "cpu",
    device: PeakDeviceOpt = None,
    iters: ItersOpt = 10,
    trials: TrialsOpt = 3,
    channels_last: Annotated[bool, typer.Option("--channels-last")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile each model first")] = False,  # noqa: A002
    threads: ThreadsOpt = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
    runtime: BenchRuntimeOpt = "torch",
) -> None:
    """Measure original vs folded throughput at the same images per step (seed 000 5)."""
    request = guarded(lambda: ModelRequest(model, batch, input, dtype or BENCH_DTYPE, device or BENCH_DEVICE))
    request = request.but(dtype_from=GIVEN if dtype else BUILT_IN, device_from=GIVEN if device else BUILT_IN)
    out = check_out(out, request.input_files())
    bench = ops.BenchFoldRequest(request, tuple(guarded(lambda: factors(f))), runtime, on=on, iters=iters,
                                 trials=trials, channels_last=channels_last, compile=compile, threads=threads)
    emit(call(f"bench-fold {model}", ops.run_bench_fold, bench), format, out, inputs=request.input_files())


@model_command("scale", batch=1024, device_help=PREDICTION_DEVICE)
def scale(
    request: ModelRequest,
    phi: Annotated[float, typer.Option(help="compound coefficient (negative: smaller)")] = -1.0,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """EfficientNet compound scaling (depth alpha^phi, width beta^phi, resolution gamma^phi): before vs after."""
    out = check_out(out, request.input_files())
    emit(call(f"scale {request.model}", ops.run_scale, request, phi), format, out, inputs=request.input_files())


@app.command()
def cascade(
    speedup: Annotated[float, typer.Option(help="throughput gain x (> 1) of the folded specialized CNN")],
    accuracy_drop: Annotated[float, typer.Option(help="its accuracy drop a, as a fraction (0.0021 = 0.21%)")],
    relative_cost: Annotated[Optional[float], typer.Option(help="T_g / T_s of your cascade, to check it")] = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Seed 000 App. G: does a faster but less accurate filter speed up a filter -> general-CNN cascade?"""
    out = check_out(out)
    emit(guarded(lambda: ops.run_cascade(speedup, accuracy_drop, relative_cost)), format, out)

