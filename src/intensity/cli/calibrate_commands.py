"""`intensity calibrate-device`: measure achieved kernel throughput over a grid of shapes, for
`--device calibrated[:FILE]`; and the calibrated-vs-roofline table `roofline` shows on such a device."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from intensity.cli._app import (
    DtypeOpt, OnOpt, ThreadsOpt, app, check_out_file, emit, guarded, note, progress, warn,
)


@app.command("calibrate-device")
def calibrate_device(
    out: Annotated[Optional[Path], typer.Option(
        help="calibration file to write (default: ~/.cache/intensity/calibration-<host>.json)")] = None,
    quick: Annotated[bool, typer.Option(help="a coarse grid and 3 trials (~15 s instead of ~1-2 min)")] = False,
    on: OnOpt = "cpu",
    dtype: DtypeOpt = "fp32",
    threads: ThreadsOpt = None,
) -> None:
    """Measure achieved flop/s of conv/linear kernels and bandwidth of elementwise/pool kernels over a
    grid of shapes on this machine; predictions use it with --device calibrated[:FILE]."""
    from intensity.hardware.calibration import default_path, save
    from intensity.measure.calibrate import calibrate

    target = out if out is not None else default_path()
    guarded(lambda: check_out_file(target))
    with progress("calibrating") as report:
        calibration = guarded(lambda: calibrate(on, dtype, quick=quick, threads=threads, progress=report))
    path = guarded(lambda: save(calibration, target))
    emit("table", None, lambda: [_summary_table(calibration, path)])
    busy = [p for p in calibration.points if p.spread > 0.10]
    if busy:
        warn(f"{len(busy)} of {len(calibration.points)} grid points spread > 10% across trials: the machine "
             f"was busy; calibrate again on a quieter machine for steadier predictions")
    note(f"saved to {path}; use it with --device calibrated" + ("" if out is None else f":{path}"))


def _summary_table(calibration: Any, path: Path) -> Any:
    from rich.table import Table

    machine = calibration.machine
    table = Table(title=f"calibration of {machine['device_name']} ({machine['threads']} threads, torch "
                        f"{machine['torch']}, {calibration.dtype}): {path}", title_justify="left",
                  caption=f"robust peak {calibration.peak_flops / 1e12:.3f} TFLOP/s, copy bandwidth "
                          f"{calibration.bandwidth / 1e9:.1f} GB/s (best trials); load {machine.get('load')}")
    for column in ("kind", "points", "channels", "sizes", "best rate: lowest", "highest", "unit"):
        table.add_column(column, justify="left" if column in ("kind", "unit") else "right")
    for kind in calibration.kinds():
        points = [p for p in calibration.points if p.kind == kind]
        unit = {"elementwise": "GB/s", "pool": "G window reads/s"}.get(kind, "GFLOP/s")
        table.add_row(kind, str(len(points)), _span(p.channels for p in points), _span(p.size for p in points),
                      f"{min(p.best for p in points) / 1e9:.3g}", f"{max(p.best for p in points) / 1e9:.3g}",
                      unit)
    return table


def _span(values: Any) -> str:
    values = sorted(set(values))
    return f"{values[0]}-{values[-1]}" if len(values) > 1 else str(values[0])


def show_calibrated(prediction: Any, fmt: str, out: Path | None) -> None:
    """`roofline --device calibrated`: each kernel's calibrated time next to its roofline time."""
    times, report = prediction.calibrated, prediction.report
    data = {"model": report.model, "batch": report.batch, "dtype": report.dtype, "device": report.device,
            "calibrated_latency": times.line.latency, "roofline_latency": times.roofline.latency,
            "fallbacks": len(times.fallbacks), "kernels": times.kernels}

    def tables() -> list:
        from rich.table import Table

        table = Table(title=f"{report.model}: batch {report.batch}, {report.dtype} on {report.device['name']}: "
                            f"calibrated time vs roofline (the roofline is the upper bound on performance)",
                      title_justify="left",
                      caption=f"calibrated {times.line.latency * 1e3:.3f} ms per batch, roofline "
                              f"{times.roofline.latency * 1e3:.3f} ms (lower bound); "
                              f"{len(times.fallbacks)} kernel(s) outside the grid use the roofline")
        for column in ("kernel", "op", "kind", "roofline ms", "calibrated ms", "calibrated / roofline", "source"):
            table.add_column(column, justify="left" if column in ("kernel", "op", "kind", "source") else "right")
        for k in times.kernels:
            table.add_row(k.name, k.op, k.kind, f"{k.roofline * 1e3:.4f}", f"{k.calibrated * 1e3:.4f}",
                          f"{k.calibrated / k.roofline:.1f}x" if k.roofline else "-", k.source)
        return [table]

    emit(fmt, data, tables, out)
