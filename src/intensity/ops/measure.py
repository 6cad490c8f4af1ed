"""Operations that run models on this machine: measure (with the NVML energy pipeline), gap,
largest-batch."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from intensity.ops._base import BUILT_IN, GIVEN, ModelRequest, OpResult, Settings, TimingOptions, resolve_spec
from intensity.progress import Progress

CPU_DTYPE = "fp32"  # what a CPU measurement uses unless a dtype is given: CPUs have no fast fp16 kernels
CPU_AMP_DTYPE = "bf16"  # the same under --amp, which needs a 16-bit dtype


@dataclass(frozen=True)
class MeasureRequest(TimingOptions):
    """A model request plus how to time it (TimingOptions): `on` (cpu/cuda) runs it; `model.device`
    is the spec whose peak utilization is taken against (`measured`: this machine's, micro-benchmarked)."""

    model: ModelRequest
    accuracy: float | None = None
    energy: bool = False


@dataclass
class MeasureResult(OpResult):
    """Measurement records (`Measurement.to_dict()`, energy figures merged in), one per model."""

    title: str
    records: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.settings_dict(), "records": self.records}

    def to_rows(self) -> list[dict[str, Any]]:
        return self.records

    def grids(self) -> list[Any]:
        from intensity.report.tables import energy_grid, measurements_grid

        grids = [measurements_grid(self.records, self.title)]
        return grids + [energy_grid(r) for r in self.records if r.get("joules_per_image") is not None]


def run_measure(request: MeasureRequest, *, progress: Progress | None = None) -> MeasureResult:
    """Images/s, utilization (seed 003) and the efficiency gap (seed 001) of one model; with
    `energy`, its NVML power too (J/image, EPP, MACs/J; a note says why when unavailable)."""
    model, notes = _measure_dtype(request)
    record, warnings = _measured(request, model, request.accuracy, progress)
    if request.energy:
        energy, why = _energy(model, request.threads, record["flops_per_image"] / 2, progress)
        record.update(energy)
        notes += [why] if why else []
    title = f"{model.model}: batch {model.batch}, {_dtype_words(model)} on {request.on}"
    return MeasureResult(title, [record], settings=model.settings(), notes=notes, warnings=warnings)


def run_gap(models: Sequence[str], request: MeasureRequest, accuracies: Sequence[float | None] = (),
            *, progress: Progress | None = None) -> MeasureResult:
    """Ideal vs actual latency and computational efficiency of a family of models (seed 001 Fig. 1)."""
    accuracies = list(accuracies) or [None] * len(models)
    if len(accuracies) != len(models):
        raise ValueError(f"`accuracy` has {len(accuracies)} values for {len(models)} models")
    base, notes = _measure_dtype(request)
    records, warnings = [], []
    for name, accuracy in zip(models, accuracies):
        record, more = _measured(request, base.but(model=name), accuracy, progress)
        records.append(record)
        warnings += more
    title = f"efficiency gap: batch {base.batch}, {_dtype_words(base)} on {request.on}"
    return MeasureResult(title, records, settings=base.settings(), notes=notes, warnings=warnings)


def _dtype_words(model: ModelRequest) -> str:
    return f"{model.dtype} autocast" if model.amp else model.dtype


def _measure_dtype(request: MeasureRequest) -> tuple[ModelRequest, list[str]]:
    """On a CPU a defaulted dtype becomes fp32 (fp16 convolutions there are slow emulations), or
    bf16 under --amp (autocast runs only at fp16 or bf16, and CPUs have bf16 kernels)."""
    model = request.model
    if request.on == "cpu" and model.dtype_from != GIVEN and model.amp and model.dtype != CPU_AMP_DTYPE:
        note = (f"measuring under autocast at {CPU_AMP_DTYPE} on the CPU (the default {model.dtype} has no fast "
                f"CPU kernels); give --dtype to choose")
        return model.but(dtype=CPU_AMP_DTYPE, dtype_from=BUILT_IN), [note]
    if request.on == "cpu" and model.dtype_from != GIVEN and not model.amp and model.dtype != CPU_DTYPE:
        note = f"measuring in {CPU_DTYPE} on the CPU (the default {model.dtype} has no fast CPU kernels); give --dtype to choose"
        return model.but(dtype=CPU_DTYPE, dtype_from=BUILT_IN), [note]  # the CPU's built-in default, not given
    return model, []


def _measured(request: MeasureRequest, model: ModelRequest, accuracy: float | None,
              progress: Progress | None) -> tuple[dict[str, Any], list[str]]:
    from intensity.measure.measurement import check_arguments, measure_model

    check_arguments(model.batch, 3, request.iters, request.trials, request.on, model.dtype, option="on",
                    amp=model.amp)  # before any benchmark
    spec, _ = resolve_spec(model, threads=request.threads, progress=progress)  # its warnings join the record's
    measurement = measure_model(model.model, batch=model.batch, input_shape=model.input_shape, dtype=model.dtype,
                                on=request.on, device=spec.device, iters=request.iters, trials=request.trials,
                                channels_last=request.channels_last, compile=request.compile, accuracy=accuracy,
                                threads=request.threads, amp=model.amp, progress=progress)
    record = measurement.to_dict()
    return record, [f"{model.model}: {text}" for text in record.get("warnings") or ()]


def _energy(model: ModelRequest, threads: int | None, macs: float,
            progress: Progress | None) -> tuple[dict[str, Any], str | None]:
    """NVML energy figures, or ({}, why not) where NVML or a GPU is missing."""
    from intensity.api import parse_input_shape
    from intensity.measure.energy import energy_unavailable, measure_energy
    from intensity.models import resolve_model

    reason = energy_unavailable()
    if reason:
        return {}, reason
    resolved = resolve_model(model.model)
    shape = parse_input_shape(model.input_shape) if model.input_shape else resolved.input_shape
    energy = measure_energy(resolved.module, model.batch, shape, macs, dtype=model.dtype, threads=threads,
                            amp=model.amp, progress=progress)
    return asdict(energy), None


@dataclass
class LargestBatchResult(OpResult):
    """The largest batch that fits: found by real runs on CUDA, estimated on the CPU."""

    model: str
    on: str
    batch: int
    limit: int
    method: str  # "cuda runs" or "estimate"

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "on": self.on, **self.settings_dict(), "largest_batch": self.batch,
                "limit": self.limit, "method": self.method}

    def grids(self) -> list[Any]:
        from intensity.report.tables import Grid

        return [Grid(f"{self.model}: largest batch on {self.on} ({self.method})", ("metric", "value"),
                     [("largest batch", str(self.batch)), ("search cap (--limit)", str(self.limit))],
                     ("metric",), header=False)]


def run_largest_batch(request: ModelRequest, *, on: str = "cpu", memory_gb: float = 8.0, limit: int = 1 << 16,
                      progress: Progress | None = None) -> LargestBatchResult:
    from intensity.api import parse_input_shape
    from intensity.dtypes import resolve_dtype
    from intensity.measure.batch_search import cuda_fits, estimated_fits, largest_batch
    from intensity.models import resolve_model

    if not memory_gb > 0 or memory_gb == float("inf"):
        raise ValueError(f"`memory_gb` must be a positive finite number of GB, not {memory_gb}")
    resolved = resolve_model(request.model, meta=on != "cuda")
    shape = parse_input_shape(request.input_shape) if request.input_shape else resolved.input_shape
    if on == "cuda":
        if not _cuda_available():
            raise ValueError("no CUDA device here; use `on` cpu for the memory estimate")
        fits = cuda_fits(resolved.module, shape, resolve_dtype(request.dtype).torch_dtype)
    else:
        fits = estimated_fits(resolved.module, shape, request.dtype, memory_gb * 1e9)
    found = largest_batch(fits, limit, progress=progress)
    notes = [f"{found} is the search's cap (--limit), not the largest batch that fits; raise --limit to look "
             f"further"] if found >= limit else []
    return LargestBatchResult(str(request.model), on, found, limit, "cuda runs" if on == "cuda" else "estimate",
                              settings=Settings(request.dtype, on, request.dtype_from), notes=notes)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
