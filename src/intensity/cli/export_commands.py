"""`intensity export`: a trained model (original or folded) as ONNX or a torch.export program."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from intensity.cli._app import app, emit, guarded, progress


@app.command()
def export(
    run: Annotated[str, typer.Argument(help="a finished run directory (or its last.pt)")],
    format: Annotated[Literal["onnx", "pt"], typer.Option("--format", help="onnx (ONNX Runtime, TensorRT) or pt "  # noqa: A002
                                                          "(torch.export program)")] = "onnx",
    out: Annotated[Path, typer.Option(help="the file to write (e.g. model.onnx, model.pt2)")] = ...,
    normalize: Annotated[bool, typer.Option(help="bake the run's input normalization into the model "
                                                 "(it then takes [0, 1] pixels)")] = True,
) -> None:
    """Export a trained model with batch norms folded and dropout removed; a folded model takes N
    images and returns N predictions (the last group padded inside). Checked against the trained
    model before anything is written."""
    from intensity.ops.export import run_export

    with progress(f"exporting {run}") as report:
        result = guarded(lambda: run_export(run, format, out, normalize=normalize, progress=report))
    emit(result, "table")  # the file is the output; the table (and notes) describe it
