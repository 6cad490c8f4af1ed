"""The estimate: what a runtime will likely measure on a GPU, beside the roofline bound.

The bound (analysis/roofline.py) lets every kernel run at the device's peak or its bandwidth and
costs nothing to launch: no correct measurement beats it. The estimate keeps the same kernels and
adds the physics the bound leaves out, with a few named parameters fitted to published
measurements (explore/fit_device.py):

    t = max(flops / compute, bytes / attainable bandwidth) + overhead

- the clock: datasheet peaks assume the boost clock, but a GPU under a full load is held near its
  base clock by its power limit, so compute peaks are scaled by base / boost clock (the spec's
  `sustained_clock_ratio`; 1 when the spec gives no clocks);
- tensor kernels (dense and wide-group convs, linears, matmuls, attention) compute at the
  tensor-core peak x `tensor_efficiency` x tile efficiency: the GEMM's N and K are padded to
  whole tiles (a 16-channel conv fills a quarter of a 64-wide tile), input channels to the
  tensor cores' 8-element alignment, and the last wave of tiles leaves SMs idle;
- vector kernels (depthwise and narrow-group convs) cannot use tensor cores: they compute at the
  CUDA-core peak (`vector_tflops` in the spec) x `vector_efficiency`;
- stream kernels (elementwise, norms, pools, reductions, copies) only move bytes;
- memory: no kernel moves more than `memory_efficiency` of the DRAM bandwidth, and a tensor kernel
  (a library GEMM or implicit-GEMM conv) no more than `tensor_issue_bytes` per SM per cycle at the
  base clock: its tile pipeline, not the DRAM, limits a memory-bound GEMM, so a GPU with few SMs or
  a low clock for its bandwidth runs them further below the DRAM's rate. Elementwise kernels and
  depthwise convs stream at the DRAM's rate (an H100's copy reaches ~90% of its 3.35 TB/s, far
  more than any per-SM-cycle figure fitted on GDDR GPUs would allow);
- every kernel pays `overhead_us` (launch, tail, and in eager mode the dispatch a short kernel
  cannot hide).

Every efficiency is at most 1, the clock ratio is at most 1 and the overhead is not negative, so an
estimate is never faster than the bound of the same kernels.
"""
from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path
from dataclasses import asdict, dataclass, field

import numpy as np

from intensity.cost.fusion import Kernel
from intensity.hardware.spec import HardwareSpec
from intensity.registry import Registry

TENSOR, VECTOR, STREAM = "tensor", "vector", "stream"
CLASSES = (TENSOR, VECTOR, STREAM)
TENSOR_OPS = frozenset({"conv", "linear", "matmul", "attention"})
# Tile sizes of the fp16 tensor-core GEMM kernels cuDNN/cuBLAS pick for large M (physical, not
# fitted): a CTA computes TILE_M x TILE_N outputs, stepping K by TILE_K; input channels are padded
# to CHANNEL_ALIGN elements (16 bytes of fp16) for the tensor cores.
TILE_M, TILE_N, TILE_K, CHANNEL_ALIGN = 128, 64, 32, 8
# A grouped conv whose groups are narrower than this runs on CUDA cores (depthwise: width 1).
NARROW_GROUP = 8


@dataclass(frozen=True)
class KernelWork:
    """One kernel as the estimate sees it: class, work, traffic and its GEMM view (M x N x K in
    `groups` independent GEMMs; 0 where there is no GEMM)."""

    name: str
    kind: str  # tensor, vector or stream
    flops: float
    bytes: float
    m: int = 0
    n: int = 0
    k: int = 0
    groups: int = 1


@dataclass(frozen=True)
class EfficiencyProfile:
    """The fitted parameters of one GPU (or of an architecture, transferred) for one runtime."""

    name: str
    runtime: str = "eager"
    tensor_efficiency: float = 0.75  # of the tensor-core peak at the sustained clock
    vector_efficiency: float = 0.05  # of the CUDA-core peak: depthwise convs reach a few percent
    memory_efficiency: float = 0.9  # of the DRAM bandwidth
    tensor_issue_bytes: float = 1.5  # bytes per SM per cycle a tensor kernel moves at most
    overhead_us: float = 1.0
    source: str = "default parameters, not fitted"
    validation: dict = field(default_factory=dict)

    PARAMETERS = ("tensor_efficiency", "vector_efficiency", "memory_efficiency", "tensor_issue_bytes",
                  "overhead_us")
    FRACTIONS = ("tensor_efficiency", "vector_efficiency", "memory_efficiency")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, origin: str = "profile") -> EfficiencyProfile:
        missing = [p for p in ("name", *cls.PARAMETERS) if p not in data]
        if missing and "tensor_memory_efficiency" in data:
            raise ValueError(f"efficiency profile {origin} was written by an older intensity (per-class "
                             f"memory efficiencies, no clocks or issue limit); fit it again with "
                             f"`intensity fit-device`")
        if missing:
            raise ValueError(f"efficiency profile {origin} lacks {', '.join(missing)}; write one with "
                             f"`intensity fit-device`")
        for name in cls.PARAMETERS:
            _check_parameter(name, data[name], origin)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def _check_parameter(name: str, value: object, origin: str) -> None:
    fraction = name in EfficiencyProfile.FRACTIONS
    upper = 1.0 if fraction else math.inf
    lower_ok = (lambda v: v >= 0) if name == "overhead_us" else (lambda v: v > 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not lower_ok(value) or value > upper:
        bounds = ("a number >= 0 (microseconds)" if name == "overhead_us" else "a fraction in (0, 1]"
                  if fraction else "a positive number (bytes per SM per cycle)")
        raise ValueError(f"efficiency profile {origin}: {name} = {value!r} must be {bounds}")


# --- kernels ------------------------------------------------------------------------------------

def kernel_work(kernel: Kernel) -> KernelWork:
    """Classify a counted kernel and give its GEMM view."""
    if kernel.op not in TENSOR_OPS or not kernel.flops:
        return KernelWork(kernel.name, STREAM, kernel.flops, kernel.bytes)
    out = max(1, math.prod(kernel.output_shape))
    k = max(1, round(kernel.flops / (2 * out)))
    if kernel.op == "conv":
        return _conv_work(kernel, out, k)
    n = kernel.output_shape[-1] if kernel.output_shape else 1
    return KernelWork(kernel.name, TENSOR, kernel.flops, kernel.bytes, max(1, out // max(1, n)), n, k)


def _conv_work(kernel: Kernel, out: int, k: int) -> KernelWork:
    channels_in = kernel.input_shape[1] if len(kernel.input_shape) > 1 else 1
    group_width = kernel.weight_shape[1] if len(kernel.weight_shape) > 1 else channels_in
    groups = channels_in // group_width if group_width and channels_in % group_width == 0 else 1
    if groups > 1 and group_width < NARROW_GROUP:
        return KernelWork(kernel.name, VECTOR, kernel.flops, kernel.bytes)
    channels_out = kernel.output_shape[1] if len(kernel.output_shape) > 1 else 1
    n = max(1, channels_out // groups)
    window = max(1, k // max(1, group_width))  # kh x kw
    padded_k = _round_up(group_width, CHANNEL_ALIGN) * window
    return KernelWork(kernel.name, TENSOR, kernel.flops, kernel.bytes, max(1, out // (n * groups)), n,
                      padded_k, groups)


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def tile_efficiency(work: KernelWork, sms: int | None) -> float:
    """Useful share of the tensor-core work a tiled GEMM does: N and K padded to whole tiles, M
    to whole tiles, and the last wave of tiles leaving SMs idle (when the SM count is known)."""
    if work.kind != TENSOR or not work.n:
        return 1.0
    return gemm_tile_efficiency(work.m, work.n, work.k, work.groups, sms)


def gemm_tile_efficiency(m, n, k, groups, sms: int | None):  # noqa: ANN001, ANN201
    """`tile_efficiency` of M x N x K GEMMs (n >= 1): plain integers, or numpy integer arrays of
    one kernel across many networks (explore/analytic.py evaluates a whole space at once)."""
    tiles_m, tiles_n = -(-m // TILE_M), -(-n // TILE_N)
    padding = (m / (tiles_m * TILE_M)) * (n / (tiles_n * TILE_N)) * (k / _round_up(k, TILE_K))
    if not sms:
        return padding
    tiles = tiles_m * tiles_n * groups
    waves = -(-tiles // sms)
    return padding * tiles / (waves * sms)


def kernel_time(work: KernelWork, profile: EfficiencyProfile, spec: HardwareSpec, dtype: str) -> float:
    """Seconds for one kernel under the profile (see the module docstring)."""
    return float(class_time(work.kind, work.flops, work.bytes, tile_efficiency(work, spec.sms), profile,
                            spec, dtype))


def class_time(kind: str, flops, nbytes, tiles, profile: EfficiencyProfile, spec: HardwareSpec,  # noqa: ANN001
               dtype: str):  # noqa: ANN201
    """Seconds of a kernel of class `kind` with its work, traffic and tile efficiency: numbers, or
    numpy arrays of one kernel across many networks (tensor and vector kernels have flops > 0)."""
    memory = nbytes / attainable_bandwidth(kind, profile, spec)
    clock = spec.sustained_clock_ratio
    compute = 0.0
    if kind == TENSOR:
        compute = flops / (spec.peak_flops(dtype) * clock * profile.tensor_efficiency * tiles)
    elif kind == VECTOR:
        vector = min(spec.vector_flops(dtype), spec.peak_flops(dtype))
        compute = flops / (vector * clock * profile.vector_efficiency)
    return np.maximum(compute, memory) + profile.overhead_us * 1e-6


def attainable_bandwidth(kind: str, profile: EfficiencyProfile, spec: HardwareSpec) -> float:
    """Bytes/s a kernel of class `kind` can move: a share of DRAM bandwidth; for a tensor kernel
    also no more than its tile pipeline issues at the base clock (no limit known without SMs and
    clocks in the spec)."""
    dram = spec.bandwidth * profile.memory_efficiency
    cycles = spec.sm_cycles_per_s
    if kind != TENSOR or cycles is None:
        return dram
    return min(dram, profile.tensor_issue_bytes * cycles)


# --- stored kernel works (a survey's cache) -------------------------------------------------------
WORK_COLUMNS = ("kind", "flops", "bytes", "m", "n", "k", "groups")


def works_to_columns(works: Sequence[KernelWork]) -> dict[str, list]:
    """Kernel works as JSON columns (names left out): what a results store keeps, so an estimate
    under any profile is recomputed without counting the model again."""
    return {column: [getattr(w, column) for w in works] for column in WORK_COLUMNS}


def works_from_columns(columns: dict) -> list[KernelWork]:
    """`works_to_columns` read back; a record lacking a column is a ValueError (count the model again)."""
    missing = [c for c in WORK_COLUMNS if not isinstance(columns.get(c), list)]
    if missing or len({len(columns[c]) for c in WORK_COLUMNS}) > 1:
        raise ValueError(f"stored kernel works lack column {', '.join(missing) or '(unequal lengths)'}; "
                         f"count the model again")
    return [KernelWork("", *values) for values in zip(*(columns[c] for c in WORK_COLUMNS))]


# --- runtimes -----------------------------------------------------------------------------------
# A runtime turns the kernels counted under its fusion policy into the kernels it launches. Adding
# one (e.g. TensorRT) is one decorated function with a `fusion` attribute.

RUNTIMES: Registry = Registry("runtime", hint="choose eager (every op its own kernel, as PyTorch runs it) "
                              "or compiled (torch.compile's fusion)")


def _runtime(name: str, fusion: str, summary: str):  # noqa: ANN202
    def register(function):  # noqa: ANN001, ANN202
        function.fusion, function.__doc__ = fusion, summary
        return RUNTIMES.register(name)(function)

    return register


@_runtime("eager", "none", "every op its own kernel, as PyTorch runs it")
def eager_kernels(kernels: Sequence[Kernel]) -> list[KernelWork]:
    return [kernel_work(k) for k in kernels]


@_runtime("compiled", "inductor", "torch.compile: library GEMMs, generated epilogues and fused pointwise chains")
def compiled_kernels(kernels: Sequence[Kernel]) -> list[KernelWork]:
    """Inductor's execution of `inductor`-fused kernels: convs and GEMMs stay library kernels that
    write their raw output, and their fused epilogue (BN, activation, residual add) becomes one
    generated pointwise kernel that reads that output (and a residual) and writes the result;
    every chain of other ops (a norm, casts, an SE gate) is one generated kernel already."""
    works = []
    for kernel in kernels:
        works.append(kernel_work(kernel))
        if kernel.fused and kernel.op in TENSOR_OPS:
            residual = kernel.output_bytes if "add" in kernel.fused else 0
            works.append(KernelWork(f"{kernel.name} epilogue", STREAM, 0,
                                    2 * kernel.output_bytes + residual))
    return works


@dataclass(frozen=True)
class Estimate:
    """What a runtime will likely measure: per-kernel and total seconds per batch."""

    runtime: str
    profile: str  # the profile's name
    profile_source: str  # how it was fitted and validated
    kernels: list[KernelWork]
    kernel_times: list[float]
    flops: float
    peak_flops: float

    @property
    def latency(self) -> float:
        return sum(self.kernel_times)

    @property
    def efficiency(self) -> float:
        """Estimated computational efficiency: ideal time at peak over the estimated time."""
        return self.flops / self.peak_flops / self.latency if self.latency else 0.0

    def to_dict(self) -> dict:
        return {"runtime": self.runtime, "profile": self.profile, "profile_source": self.profile_source,
                "latency_s": self.latency, "efficiency": self.efficiency, "kernels": len(self.kernels)}


def estimate(works: Sequence[KernelWork], profile: EfficiencyProfile, spec: HardwareSpec,
             dtype: str) -> Estimate:
    """The estimate of a runtime's kernels (eager: `none`-fused; compiled: `compiled_kernels`)."""
    times = [kernel_time(w, profile, spec, dtype) for w in works]
    flops = sum(w.flops for w in works)
    return Estimate(profile.runtime, profile.name, profile.source, list(works), times, flops,
                    spec.peak_flops(dtype))


# --- which profile a device gets -----------------------------------------------------------------

def profile_for(spec: HardwareSpec, runtime: str = "eager", profile: str | EfficiencyProfile | None = None
                ) -> EfficiencyProfile:
    """The profile an estimate on `spec` uses: `profile` if given (a profile or a JSON file written by
    `intensity fit-device`), else the one fitted on this GPU, else the architecture-level profile
    transferred from the fitted GPUs (its `source` says so)."""
    check_runtime(runtime)
    if isinstance(profile, EfficiencyProfile):
        return profile
    if profile is not None:
        return load_profile(profile)
    from intensity.hardware.profiles import fitted_profile_data, transfer_profile_data

    fitted = None if spec.overrides else fitted_profile_data(spec.key, runtime)
    if fitted is not None:
        return EfficiencyProfile.from_dict(fitted, f"{spec.key}-{runtime}")
    transferred = transfer_profile_data(runtime)
    if transferred is None:
        return EfficiencyProfile(name="default", runtime=runtime)
    base = EfficiencyProfile.from_dict(transferred, f"transfer-{runtime}")
    why = (f"{spec.key}'s figures are overridden ({'; '.join(spec.overrides)}), so its fitted profile does not "
           f"apply" if spec.overrides and fitted_profile_data(spec.key, runtime) else f"{spec.key} has no fitted profile")
    return dataclasses.replace(base, name=f"{spec.key} (datasheet)", source=f"{why}: {base.source}")


def check_runtime(runtime: str) -> str:
    if not isinstance(runtime, str) or runtime not in RUNTIMES:
        raise ValueError(f"unknown `runtime` {runtime!r}; choose eager (every op its own kernel, as "
                         f"PyTorch runs it) or compiled (torch.compile's fusion)")
    return runtime


def load_profile(path: str | Path) -> EfficiencyProfile:
    """A profile JSON file written by `intensity fit-device`."""
    from intensity.errors import check_file

    if not isinstance(path, (str, Path)):
        raise TypeError(f"`profile` must be a JSON file path or an EfficiencyProfile, not "
                        f"{type(path).__name__} {path!r}")
    path = check_file(path, "`profile`: efficiency profile", "give a JSON file written by `intensity fit-device`")
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"`profile`: efficiency profile {path} is not JSON ({type(error).__name__}); give a "
                         f"file written by `intensity fit-device`") from None
    if not isinstance(data, dict):
        raise ValueError(f"`profile`: efficiency profile {path} is not a JSON object; give a file written by "
                         f"`intensity fit-device`")
    return EfficiencyProfile.from_dict(data, f"{path} (`profile`)")
