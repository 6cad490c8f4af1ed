"""The result of a cost analysis: kernels, totals and what could not be counted.

The library returns these dataclasses; the CLI and report/ render them. `to_dict` adds the
derived metrics (intensity, reuse, bound) so JSON readers need no formulas of their own.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from intensity.cost import reuse
from intensity.cost.fusion import Kernel
from intensity.cost.metrics import TrafficMetrics, bound

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Totals(TrafficMetrics):
    """Sums over the reported kernels, and the whole-model figures derived from them."""

    kernels: int
    flops: int
    params: int  # parameters of the model (sum of p.numel(), shared ones once)
    input_bytes: int
    weight_bytes: int
    output_bytes: int
    weight_elements: int
    activation_elements: int
    alpha: float

    @property
    def macs(self) -> int:
        return self.flops // 2

    def reuse_metrics(self) -> dict[str, float | None]:
        w, a = self.weight_elements, self.activation_elements
        ai_c = reuse.cumulative_intensity(self.flops, w, a)
        di = reuse.weighted_intensity(self.flops, w, a, self.alpha)
        return {"weight_reuse": reuse.weight_reuse(self.flops, w),
                "activation_reuse": reuse.activation_reuse(self.flops, a),
                "ai_c": ai_c, "di": di, "disparity": reuse.disparity(ai_c, di),
                "a_over_w": a / w if w else None}

    def to_dict(self) -> dict[str, Any]:
        """Every figure; with no kernel (an `only` filter matching nothing) intensity is None, not 0."""
        intensity = self.intensity if self.kernels else None
        return {**asdict(self), "macs": self.macs, "bytes": self.bytes, "intensity": intensity,
                "intensity_limit": self.intensity_limit, **self.reuse_metrics()}


@dataclass
class Uncounted:
    op: str
    calls: int
    modules: list[str]


def kernel_dict(kernel: Kernel, op_byte: float | None = None) -> dict[str, Any]:
    """A kernel with its derived metrics; `bound` compares intensity with the device's op:byte."""
    result = asdict(kernel)
    result.update(
        bytes=kernel.bytes, intensity=kernel.intensity, intensity_limit=kernel.intensity_limit,
        weight_reuse=reuse.weight_reuse(kernel.flops, kernel.weight_elements),
        activation_reuse=reuse.activation_reuse(kernel.flops, kernel.activation_elements),
        weight_fraction=kernel.weight_bytes / kernel.bytes if kernel.bytes else 0.0,
    )
    if op_byte is not None:
        result["bound"] = bound(kernel.flops, kernel.bytes, op_byte)
    return result


@dataclass
class CostReport:
    model: str
    batch: int
    input_shape: list[int]
    dtype: str
    fusion: str
    kernels: list[Kernel]
    totals: Totals
    uncounted: list[Uncounted]
    device: dict[str, Any] | None = None  # HardwareSpec.summary(dtype), when a device was given
    only: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    capture: str = "meta"
    notes: list[str] = field(default_factory=list)
    attention: str = "flash"  # how scaled-dot-product attention was costed: flash or math
    inputs: list[str] = field(default_factory=list)  # every forward argument, e.g. ['1x128:int64']
    warnings: list[str] = field(default_factory=list)  # e.g. `only` matched nothing, fits no device
    amp: bool = False  # counted as torch.autocast runs it (fp32 weights, per-op dtypes)

    @property
    def op_byte(self) -> float | None:
        return self.device["op_byte"] if self.device else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "batch": self.batch, "input_shape": self.input_shape,
            "dtype": self.dtype, "amp": self.amp, "device": self.device, "fusion": self.fusion, "only": self.only,
            "blocks": self.blocks, "attention": self.attention, "capture": self.capture,
            "notes": self.notes, "warnings": self.warnings, "inputs": self.inputs,
            "totals": self.totals.to_dict(),
            "kernels": [kernel_dict(k, self.op_byte) for k in self.kernels],
            "uncounted": [asdict(u) for u in self.uncounted],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_frame(self) -> pd.DataFrame:
        """One row per kernel, every field and derived metric a column."""
        import pandas as pd  # lazily: pandas costs a second at import

        rows = [kernel_dict(k, self.op_byte) for k in self.kernels]
        frame = pd.DataFrame(rows)
        for column in ("input_shape", "weight_shape", "output_shape", "fused"):
            if column in frame:
                frame[column] = frame[column].map(_join)
        return frame

    def to_csv(self) -> str:
        return self.to_frame().to_csv(index=False)


def _join(values: list[Any]) -> str:
    return "x".join(str(v) for v in values) if values and not isinstance(values[0], str) \
        else "+".join(values)
