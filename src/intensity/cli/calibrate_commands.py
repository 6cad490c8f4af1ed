"""`intensity calibrate-device`: measure achieved kernel throughput over a grid of shapes, for
`--device calibrated[:FILE]` (the calibrated-vs-roofline view is `roofline --device calibrated`)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from intensity.cli._app import DtypeOpt, FormatOpt, OnOpt, ThreadsOpt, app, call, check_out, emit, nonempty_path
from intensity.ops.calibrate import run_calibrate_device


@app.command("calibrate-device")
def calibrate_device(
    out: Annotated[Optional[str], typer.Option(
        help="calibration file to write (default: ~/.cache/intensity/calibration-<host>.json)",
        callback=nonempty_path)] = None,
    quick: Annotated[bool, typer.Option(help="a coarse grid and 3 trials (~15 s instead of ~1-2 min)")] = False,
    on: OnOpt = "cpu",
    dtype: DtypeOpt = None,
    threads: ThreadsOpt = None,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Measure achieved flop/s of conv/linear kernels and bandwidth of elementwise/pool kernels over a
    grid of shapes on this machine; predictions use it with --device calibrated[:FILE]. On the CPU
    the dtype defaults to fp32."""
    check_out(out)
    result = call("calibrating", run_calibrate_device, on=on, dtype=dtype, quick=quick, threads=threads, out=out)
    emit(result, format)
