"""Commands for block-fusion kernels: fuse (with --check), fusion-grid (seed 001 Fig. 8/12, §6.2).
Each declares its options, calls one operation (intensity.ops.kernels) and emits its result."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

import typer

from intensity.cli._app import FormatOpt, OutOpt, call, check_out, emit, guarded, model_command, nonempty_path
from intensity.ops import ModelRequest
from intensity.ops import kernels as ops


@model_command("fuse", batch=2, fusion=False, device=False)
def fuse_command(
    request: ModelRequest,
    check: Annotated[bool, typer.Option("--check", help="run original and fused model on one random "
                                                       "batch and print the max. difference")] = False,
    on: Annotated[Literal["cpu", "cuda"], typer.Option("--on", help="where to run the check")] = "cpu",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Replace a model's ConvFirst and MBConv blocks by block-fusion kernels (seed 001 5)."""
    check_out(out, request.input_files())
    result = guarded(lambda: ops.run_fuse(request, check=check, on=on))
    emit(result, format, out, inputs=request.input_files())


@model_command("fusion-grid", model=False, batch=128, fusion=False, device_help="accelerator spec (the seed: a5000-base; "
                                                                   "default: see `intensity config`)")
def fusion_grid_command(
    request: ModelRequest,
    block: Annotated[Literal["convfirst", "mbconv"], typer.Option(
        help="convfirst: seed 001 Fig. 8 grid; mbconv: Fig. 12 grid")] = "convfirst",
    network: Annotated[Optional[str], typer.Option(
        help="also a whole network's max. efficiency both ways (seed §6.2: convfirstnet-small)")] = ops.NETWORK,
    plot: Annotated[Optional[str], typer.Option(help="write the Fig. 8/12 waterline plot (PNG, SVG) here",
                                                callback=nonempty_path)] = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Waterline of layer-wise vs block-fusion kernels over the seed's block grids."""
    inputs = request.input_files()
    check_out(out, inputs)
    check_out(plot, inputs, option="--plot", directory=True)
    result = call(f"fusion grid of {block}", lambda progress: ops.run_fusion_grid(  # noqa: ARG005
        request, block=block, network=network, plot=plot))
    emit(result, format, out, inputs=inputs)
