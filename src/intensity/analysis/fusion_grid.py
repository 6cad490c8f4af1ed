"""Layer-wise vs block-fusion waterlines over the block grids of seed 001 Fig. 8 and Fig. 12, and a
whole network's maximum computational efficiency both ways (§6.2, Fig. 15).

Each grid point is one block (ConvFirst or MBConv, C in = C out, stride 1) counted at batch 128 on
the A5000 at base clocks (76.7 TFLOP/s fp16, 480 GB/s), once with the `trivial` policy (layer-wise
kernels, BN/activation/residual fused into the producing conv as inference engines do) and once
with the `block` policy (one kernel: input + output + weights). The seed prints each point's two
minimum latencies under its wells; `SEED_LATENCY_US` keeps them for comparison.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from torch import nn

from intensity.analysis.predict import Prediction, predict
from intensity.models.layers import ConvFirst, MBConv

# (channels, expansion, height = width) in the order of the seed's figures
CONVFIRST_GRID = ((16, 3, 128), (24, 3, 128), (32, 3, 128), (32, 6, 64), (48, 6, 64), (64, 6, 64),
                  (48, 6, 32), (64, 6, 32), (96, 6, 32))
MBCONV_GRID = tuple((c, 4, hw) for hw in (16, 8) for c in (128, 144, 160, 192, 256))
GRIDS = {"convfirst": CONVFIRST_GRID, "mbconv": MBCONV_GRID}
BLOCKS: dict[str, Callable[[int, int], nn.Module]] = {
    "convfirst": lambda c, a: ConvFirst(c, c, a), "mbconv": lambda c, a: MBConv(c, c, a)}

# Seed 001 Fig. 8 / Fig. 12: (layer-wise, block-fusion) minimum latency in microseconds
SEED_LATENCY_US = {
    "convfirst": dict(zip(CONVFIRST_GRID, [(1538, 280), (2307, 419), (3076, 559), (1188, 199),
                                            (1783, 425), (2377, 735), (446, 106), (594, 184),
                                            (892, 402)])),
    "mbconv": dict(zip(MBCONV_GRID, [(544, 144), (612, 178), (680, 215), (816, 300), (1150, 512),
                                      (137, 36), (155, 45), (172, 54), (207, 75), (290, 128)])),
}


@dataclass(frozen=True)
class GridPoint:
    """One block configuration: its waterline with layer-wise kernels and as one fused kernel."""

    block: str
    channels: int
    expansion: int
    hw: int
    layer: Prediction
    fused: Prediction

    @property
    def label(self) -> str:
        return f"{self.channels}c{self.expansion}a{self.hw}hw"  # the seed's "16c3α128hw"

    @property
    def speedup(self) -> float:
        return self.layer.latency / self.fused.latency

    @property
    def seed_latency_us(self) -> tuple[int, int] | None:
        return SEED_LATENCY_US.get(self.block, {}).get((self.channels, self.expansion, self.hw))

    def to_dict(self) -> dict:
        seed = self.seed_latency_us
        return {"block": self.block, "point": self.label, "channels": self.channels,
                "expansion": self.expansion, "hw": self.hw,
                "layer_kernels": len(self.layer.report.kernels),
                "layer_latency_us": self.layer.latency * 1e6, "layer_efficiency": self.layer.utilization,
                "layer_memory_bound": sum(k.bound == "memory" for k in self.layer.line.kernels),
                "fused_intensity": self.fused.report.kernels[0].intensity,
                "fused_latency_us": self.fused.latency * 1e6, "fused_efficiency": self.fused.utilization,
                "fused_bound": self.fused.line.kernels[0].bound, "speedup": self.speedup,
                "seed_layer_us": seed[0] if seed else None, "seed_fused_us": seed[1] if seed else None}


def _check_block(block: str) -> None:
    if block not in GRIDS:
        raise ValueError(f"unknown `block` {block!r}; choose one of {', '.join(GRIDS)}")


def grid_point(block: str, channels: int, expansion: int, hw: int, *, device: str = "a5000-base",
               dtype: str = "fp16", batch: int = 128) -> GridPoint:
    """Count one block (wrapped so the block policy sees it as a child module) both ways."""
    _check_block(block)
    model = nn.Sequential(BLOCKS[block](channels, expansion))
    shape = (channels, hw, hw)
    layer, fused = (predict(model, device=device, dtype=dtype, batch=batch, input_shape=shape, fusion=f)
                    for f in ("trivial", "block"))
    return GridPoint(block, channels, expansion, hw, layer, fused)


def fusion_grid(block: str = "convfirst", points: Iterable[Sequence[int]] | None = None, *,
                device: str = "a5000-base", dtype: str = "fp16", batch: int = 128) -> list[GridPoint]:
    """Fig. 8 (`convfirst`) or Fig. 12 (`mbconv`): every (C, alpha, H=W) point both ways."""
    _check_block(block)
    return [grid_point(block, *point, device=device, dtype=dtype, batch=batch)
            for point in (points if points is not None else GRIDS[block])]


@dataclass(frozen=True)
class NetworkFusion:
    """A whole network's waterline with layer-wise kernels and with block-fusion kernels (§6.2)."""

    model: str
    layer: Prediction
    fused: Prediction

    def to_dict(self) -> dict:
        return {"model": self.model, "batch": self.layer.report.batch,
                "device": self.layer.spec.key, "dtype": self.layer.report.dtype,
                "layer_efficiency": self.layer.utilization, "fused_efficiency": self.fused.utilization,
                "layer_latency_ms": self.layer.latency * 1e3, "fused_latency_ms": self.fused.latency * 1e3,
                "layer_kernels": len(self.layer.report.kernels), "fused_kernels": len(self.fused.report.kernels)}


def network_fusion(model: str = "convfirstnet-small", *, device: str = "a5000-base", dtype: str = "fp16",
                   batch: int = 128) -> NetworkFusion:
    """Max computational efficiency both ways; the seed reports 36% and 97% for ConvFirstNet-Small."""
    layer, fused = (predict(model, device=device, dtype=dtype, batch=batch, fusion=f)
                    for f in ("trivial", "block"))
    return NetworkFusion(model, layer, fused)
