"""Predicting what folding buys before training anything (seed 000 3, App. B, H, J).

For each f: the original model at batch N and its FoldedCNN at batch N / f (the same images per
step), per layer and in total: widths, flops per image, bytes, intensity and its ratio (about
sqrt(f) in the batch-limited regime), whether App. J's inequality says the layer's traffic falls,
a tile-quantization warning when folded widths lose divisibility by 8 or 64 (App. H), and the
waterline latency and utilization on a device.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from intensity.analysis.predict import predict
from intensity.cost.fusion import Kernel
from intensity.hardware import HardwareSpec, get_spec
from intensity.models import resolve_model
from intensity.transforms.folding import check_factor, fold, traffic_falls


@dataclass(frozen=True)
class LayerPrediction:
    name: str
    kind: str
    widths_before: tuple[int, int]
    widths_after: tuple[int, int]
    flops_per_image_before: float
    flops_per_image_after: float
    bytes_before: int
    bytes_after: int
    intensity_before: float
    intensity_after: float
    traffic_falls: bool | None  # App. J, convs only
    tile_warning: str = ""

    @property
    def intensity_ratio(self) -> float:
        return self.intensity_after / self.intensity_before if self.intensity_before else 0.0


@dataclass(frozen=True)
class FoldPrediction:
    f: int
    batch: int
    layers: list[LayerPrediction] = field(default_factory=list)
    intensity_before: float = 0.0
    intensity_after: float = 0.0
    latency_before: float = 0.0  # waterline seconds per N images
    latency_after: float = 0.0
    utilization_before: float = 0.0
    utilization_after: float = 0.0
    notes: tuple[str, ...] = ()  # e.g. which input shape was used
    estimated_latency_before: float | None = None  # what the runtime will likely measure (GPU specs)
    estimated_latency_after: float | None = None
    estimate_runtime: str | None = None  # eager or compiled: whose measurement the estimate is
    estimate_profile: str | None = None  # the efficiency profile (or calibration) it used

    @property
    def speedup(self) -> float:
        """The bound's speedup: waterline before over after."""
        return self.latency_before / self.latency_after if self.latency_after else 0.0

    @property
    def estimated_speedup(self) -> float | None:
        """The estimate's speedup (per-kernel overheads and tile quantization included)."""
        if not self.estimated_latency_before or not self.estimated_latency_after:
            return None
        return self.estimated_latency_before / self.estimated_latency_after

    @property
    def intensity_ratio(self) -> float:
        return self.intensity_after / self.intensity_before if self.intensity_before else 0.0


def tile_warning(before: tuple[int, int], after: tuple[int, int]) -> str:
    """App. H: widths that were divisible by 8 or 64 and are no longer."""
    lost = [f"{b}->{a} not a multiple of {m}" for b, a in zip(before, after) for m in (64, 8)
            if b % m == 0 and a % m]
    return "; ".join(dict.fromkeys(lost))


def _kernels_by_name(kernels: Sequence[Kernel]) -> dict[str, Kernel]:
    return {k.name: k for k in kernels if k.op in ("conv", "linear")}


def predict_folding(model: str, fs: Sequence[int], *, batch: int = 1024, dtype: str = "fp16",
                    device: str | HardwareSpec = "v100", fusion: str = "trivial", rounding: str = "floor",
                    input_shape: Sequence[int] | None = None, runtime: str = "eager",
                    profile: str | None = None) -> list[FoldPrediction]:
    """Per-layer and total predictions for each f; `input_shape` (C, H, W) defaults to the model's own.
    Latencies are the bound (waterline) and, on GPU specs, the `runtime`'s estimate."""
    spec = get_spec(device, dtype)
    resolved = resolve_model(model)
    shape = tuple(input_shape) if input_shape is not None else tuple(resolved.input_shape)
    estimates = {"runtime": runtime, "profile": profile}
    base = predict(resolved.module, device=spec, dtype=dtype, batch=batch, input_shape=shape, fusion=fusion,
                   **estimates)
    return [_predict_one(resolved.module, check_factor(f), shape, spec, rounding, base, estimates) for f in fs]


def _estimated_latency(prediction) -> float | None:  # noqa: ANN001
    """The GPU profile's estimate, or on a calibrated device the calibrated kernel times."""
    if prediction.calibrated is not None:
        return prediction.line.latency
    return prediction.estimate.latency if prediction.estimate is not None else None


def _predict_one(module, f, shape, spec, rounding, base, estimates) -> FoldPrediction:  # noqa: ANN001
    original, batch = base.report, base.report.batch
    folded_batch = -(-batch // f)  # a partial last group is padded, as fold_inputs does
    result = fold(module, f, shape, rounding=rounding)
    folded, layers, folded_shape = result.model, result.layers, result.folded_input_shape
    after_fold = predict(folded, device=spec, dtype=original.dtype, batch=folded_batch,
                         input_shape=folded_shape, fusion=original.fusion, **estimates)
    before, after = _kernels_by_name(original.kernels), _kernels_by_name(after_fold.report.kernels)
    rows = [_layer(layer, before.get(layer.name), after.get(layer.name), batch, f) for layer in layers]
    bound_before, bound_after = base.roofline, after_fold.roofline  # on calibrated devices too: the roofline
    notes = (f"input shape {'x'.join(map(str, shape))}", *result.notes[1:])
    return FoldPrediction(f, batch, [r for r in rows if r is not None], original.totals.intensity,
                          after_fold.report.totals.intensity, bound_before.latency, bound_after.latency,
                          bound_before.efficiency, bound_after.efficiency, notes,
                          _estimated_latency(base), _estimated_latency(after_fold), *base.estimate_source)


def _layer(layer, old: Kernel | None, new: Kernel | None, batch: int, f: int) -> LayerPrediction | None:  # noqa: ANN001
    if old is None or new is None:
        return None
    falls = None
    if layer.kind == "conv" and len(old.output_shape) == 4:
        _, c_out, h, w = old.output_shape
        kernel = tuple(old.weight_shape[2:4]) if len(old.weight_shape) == 4 else (1, 1)
        falls = traffic_falls(batch, h, w, layer.before[0], c_out, kernel, f)
    return LayerPrediction(layer.name, layer.kind, layer.before, layer.after, old.flops / batch, new.flops / batch,
                           old.bytes, new.bytes, old.intensity, new.intensity, falls,
                           tile_warning(layer.before, layer.after))
