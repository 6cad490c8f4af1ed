"""Operations of block-fusion kernels: `fuse` (with its check) and `fusion-grid` (seed 001 Fig.
8/12, §6.2)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intensity.ops._base import ModelRequest, OpResult, resolve_spec

NETWORK = "convfirstnet-small"  # seed §6.2's whole network
SEED_DEVICE = "a5000-base"  # the device of seed 001's Fig. 8/12


@dataclass
class FuseResult(OpResult):
    """What `fuse` replaced and left unchanged; with a check, the outputs' difference."""

    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def to_rows(self) -> list[dict[str, Any]]:
        return [{"path": r["path"], "block": r["block"], "fused": True, "reason": ""} for r in self.data["replaced"]] \
            + [{**r, "fused": False} for r in self.data["unchanged"]]

    def grids(self) -> list[Any]:
        from intensity.report.tables import fuse_grids

        return fuse_grids(self.data)


def run_fuse(request: ModelRequest, *, check: bool = False, on: str = "cpu") -> FuseResult:
    """Replace a model's ConvFirst and MBConv blocks by block-fusion kernels (seed 001 5); with
    `check`, run original and fused on one random batch of `request.batch` and compare."""
    from intensity.api import parse_input_shape
    from intensity.kernels.fuse import check_fuse, fuse
    from intensity.models import resolve_model

    if on == "cuda" and not _cuda_available():
        raise ValueError("`on` cuda: no CUDA device here; use --on cpu")
    resolved = resolve_model(request.model)
    shape = parse_input_shape(request.input_shape) if request.input_shape else resolved.input_shape
    result = check_fuse(resolved.module, shape, batch=request.batch, device=on) if check else None
    report = result.report if result else fuse(resolved.module)[1]
    data = {"model": str(request.model), "backend": report.backend,
            "replaced": [{"path": p, "block": b} for p, b in report.replaced],
            "unchanged": [{"path": p, "block": b, "reason": r} for p, b, r in report.unchanged]}
    if result:
        data |= {"input": [request.batch, *shape], "max_abs_diff": result.max_abs_diff,
                 "max_abs_output": result.max_abs_output,
                 "relative_error": result.relative_error, "input_dependent": result.input_dependent,
                 "judged_at": result.judged_at}
    notes = [] if report.replaced or report.unchanged else [
        f"no supported blocks (ConvFirst, MBConv; the fused kernels cover their FFN) found in {request.model}; "
        f"nothing was fused, so the model runs unchanged"]
    return FuseResult(data, notes=notes)


@dataclass
class FusionGridResult(OpResult):
    """Waterline of layer-wise vs block-fusion kernels over the seed's block grid."""

    block: str
    batch: int
    points: list[Any] = field(default_factory=list)  # analysis.fusion_grid points
    network: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"block": self.block, "batch": self.batch, **self.settings_dict(),
                "grid": [p.to_dict() for p in self.points], "network": self.network.to_dict() if self.network else None}

    def to_rows(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.points]

    def grids(self) -> list[Any]:
        from intensity.report.tables import fusion_grid_grids

        return fusion_grid_grids(self.to_dict(), self.block, self.settings.device, self.batch, self.settings.dtype)


def run_fusion_grid(request: ModelRequest, *, block: str = "convfirst", network: str | None = NETWORK,
                    plot: str | Path | None = None) -> FusionGridResult:
    """Seed 001 Fig. 8 (convfirst) / Fig. 12 (mbconv) grids on the request's device; with `network`,
    a whole network's max. efficiency both ways; with `plot`, the figure (PNG, SVG) in that folder."""
    from intensity.analysis.fusion_grid import fusion_grid, network_fusion

    resolved, warnings = resolve_spec(request)
    options = {"device": resolved.device, "dtype": request.dtype, "batch": request.batch}
    points = fusion_grid(block, **options)
    whole = network_fusion(network, **options) if network else None
    result = FusionGridResult(block, request.batch, points, whole, settings=resolved.settings(), warnings=warnings)
    if resolved.device.key != SEED_DEVICE:
        result.notes.append(f"the seed's printed latencies (last column) are on {SEED_DEVICE}, not "
                            f"{resolved.device.key}: give --device {SEED_DEVICE} to compare with them")
    if plot is not None:
        result.notes.append(_plot(result, plot))
    return result


def _plot(result: FusionGridResult, folder: str | Path) -> str:
    from intensity.output import check_output
    from intensity.report.fusion_plots import fusion_grid_figure
    from intensity.report.plots import save

    check_output(folder, option="--plot", directory=True)
    s = result.settings
    figure = fusion_grid_figure(result.points, f"{result.block}: layer-wise vs block fusion, batch {result.batch}, "
                                               f"{s.dtype}, {s.device}")
    paths = save(figure, folder, f"fusion_grid_{result.block}")
    return f"plot written to {paths['png']} and {paths['svg']}"


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
