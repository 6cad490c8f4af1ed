"""`intensity fit-device`: the GPU estimate's parameters, fitted to published measurements."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from intensity.cli._app import FormatOpt, RuntimeOpt, app, call, check_out, emit, nonempty_path
from intensity.ops.fit import DEFAULT_CACHE, run_fit_device


@app.command("fit-device")
def fit_device(
    published: Annotated[str, typer.Option(help="folder of timm's benchmark CSVs (benchmark-infer-amp-*.csv)",
                                           callback=nonempty_path)],
    gpu: Annotated[str, typer.Option(help="which GPU's table: rtx4090, rtx5090 or pro6000maxq")],
    out: Annotated[str, typer.Option(help="profile JSON to write (use it with --profile)",
                                     callback=nonempty_path)],
    runtime: RuntimeOpt = "eager",
    cache: Annotated[Optional[str], typer.Option(
        help=f"folder caching each model's kernel table (default {DEFAULT_CACHE})",
        callback=nonempty_path)] = None,
    limit: Annotated[Optional[int], typer.Option(help="fit on the first N rows only", min=1)] = None,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Fit the estimate's efficiency profile (tensor/CUDA-core efficiency, memory efficiency per
    kernel class, per-kernel overhead) to a published timm table, cross-validated by model family."""
    check_out(out, [published, cache])
    result = call(f"fitting {gpu}", run_fit_device, published=published, gpu=gpu, runtime=runtime,
                  out=out, cache=Path(cache) if cache else DEFAULT_CACHE, limit=limit)
    emit(result, format)
