"""Analytic sweeps: the metrics of a point from `predict`, and the whole NATS size space at once.

Tracing 32768 networks with `analyze` takes ~30 min; but every kernel's flops, element counts and
bytes are polynomials of degree <= 2 in the five widths (conv flops ~ c_in * c_out, activations
~ c), and the kernel sequence only changes where a cell's skip becomes a 1x1 conv (c2 != c3,
c4 != c5). So for each of those 4 patterns we trace a few dozen networks, solve for the integer
coefficients of every kernel field exactly (checked on every traced network), and evaluate the
32768 networks with numpy integer arithmetic. The waterline (seed 001 Eqn 11-13) is then summed
kernel by kernel in the same order as `waterline`, so results equal `predict` bit for bit.
"""
from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from intensity.cost.result import Totals
from intensity.cost.reuse import DEFAULT_ALPHA
from intensity.explore.spaces import NATS_CHOICES, NATS_DATASETS, NATS_SIZE, Space
from intensity.progress import Progress, notify

FIELDS = ("flops", "input_bytes", "weight_bytes", "output_bytes", "weight_elements",
          "input_elements", "output_elements")
METRICS = ("flops", "macs", "params", "bytes", "kernels", "intensity", "intensity_limit", "di",
           "ai_c", "latency_s", "utilization", "images_per_s")
# The estimate's metrics beside the bound's (latency_s, utilization, images_per_s): what the runtime
# will likely measure on the device, and the runtime and efficiency profile it assumed.
ESTIMATE_METRICS = ("estimate_latency_s", "estimate_images_per_s", "estimate_utilization",
                    "estimate_runtime", "estimate_profile")
WORK_FIELDS = ("flops", "bytes", "m", "n", "k", "groups")  # a KernelWork's numbers, fitted like FIELDS


def point_metrics(totals: Totals, latency: float, efficiency: float, batch: int) -> dict:
    """One store row's metrics from a model's totals and its waterline (both sweep paths)."""
    reuse = totals.reuse_metrics()
    return {"flops": totals.flops, "macs": totals.macs, "params": totals.params,
            "bytes": totals.bytes, "kernels": totals.kernels, "intensity": totals.intensity,
            "intensity_limit": totals.intensity_limit, "di": reuse["di"], "ai_c": reuse["ai_c"],
            "latency_s": latency, "utilization": efficiency,
            "images_per_s": batch / latency if latency else 0.0}


CALIBRATED = "calibrated"  # estimate_profile of rows estimated from a calibration (`--device calibrated`)


def estimate_metrics(latency: float, efficiency: float, batch: int, runtime: str, profile: str) -> dict:
    """A row's estimate metrics (ESTIMATE_METRICS) from the estimate's seconds per batch."""
    return {"estimate_latency_s": latency, "estimate_images_per_s": batch / latency if latency else 0.0,
            "estimate_utilization": efficiency, "estimate_runtime": runtime, "estimate_profile": profile}


def predicted_metrics(space: Space, point: str, *, device: object, dtype: str, batch: int,
                      runtime: str = "eager", profile: object = None) -> dict:
    """A point's metrics by tracing it: `predict` on its module (any space; the reference). With a
    `profile` (an EfficiencyProfile; None: no estimate) the estimate's metrics too."""
    from intensity.analysis.predict import predict

    module = space.build(point)
    prediction = predict(module, device=device, dtype=dtype, batch=batch, input_shape=space.input_shape,
                         name=space.model_name(point), runtime=runtime,
                         **({"profile": profile} if profile is not None else {}))
    bound = prediction.roofline  # on a calibrated device `prediction.line` is the calibrated estimate
    metrics = point_metrics(prediction.report.totals, bound.latency, bound.efficiency, batch)
    guess = prediction.estimate
    if profile is not None and guess is not None:
        metrics.update(estimate_metrics(guess.latency, guess.efficiency, batch, runtime, guess.profile))
    elif prediction.calibrated is not None:
        metrics.update(estimate_metrics(prediction.line.latency, prediction.line.efficiency, batch, "eager",
                                        CALIBRATED))
    return metrics


# --- the NATS size space in closed form ---------------------------------------------------------
@dataclass(frozen=True)
class PatternFit:
    """Integer coefficients of every kernel field in the monomials of the free widths / 8."""

    pattern: tuple[bool, bool]  # (c2 == c3, c4 == c5)
    slots: tuple[int, ...]  # the free width slots
    names: tuple[str, ...]  # kernel names, in execution order
    coefficients: np.ndarray  # (monomials, kernels, fields), int64
    params: np.ndarray  # (monomials,), int64
    traces: int


def _slots(pattern: tuple[bool, bool]) -> tuple[int, ...]:
    return tuple(s for s, dependent in zip(range(5), (False, False, pattern[0], False, pattern[1]))
                 if not dependent)


def _monomials(units: np.ndarray) -> np.ndarray:
    """[1, u_i, u_i u_j (i <= j)] per row of `units` (widths / 8), int64."""
    columns = [np.ones(len(units), dtype=np.int64)]
    columns += [units[:, i] for i in range(units.shape[1])]
    columns += [units[:, i] * units[:, j]
                for i, j in itertools.combinations_with_replacement(range(units.shape[1]), 2)]
    return np.stack(columns, axis=1).astype(np.int64)


def _complete(free: dict[int, int], pattern: tuple[bool, bool]) -> tuple[int, ...]:
    """Free widths -> all five (c3 = c2 and c5 = c4 where the pattern says so)."""
    widths = dict(free)
    widths[2] = widths[1] if pattern[0] else widths[2]
    widths[4] = widths[3] if pattern[1] else widths[4]
    return tuple(widths[s] for s in range(5))


def _samples(pattern: tuple[bool, bool], count: int, seed: int) -> list[tuple[int, ...]]:
    rng, chosen = random.Random(seed), []
    while len(chosen) < count:
        widths = _complete({s: rng.choice(NATS_CHOICES) for s in _slots(pattern)}, pattern)
        if (widths[1] == widths[2]) == pattern[0] and (widths[3] == widths[4]) == pattern[1]:
            chosen.append(widths)
    return chosen


def fit_pattern(pattern: tuple[bool, bool], trace: Callable[[tuple[int, ...]], tuple], seed: int = 0,
                extra: int = 3) -> PatternFit:
    """Trace enough networks of `pattern` to solve every kernel field, and check the solution."""
    slots = _slots(pattern)
    count = _monomials(np.ones((1, len(slots)), dtype=np.int64)).shape[1] + extra
    widths = _samples(pattern, count, seed)
    traced = [trace(w) for w in widths]
    names = traced[0][0]
    if any(t[0] != names for t in traced):
        raise RuntimeError(f"NATS kernel sequence varies within pattern {pattern}; use exact tracing")
    design = _monomials(np.array([[w[s] // 8 for s in slots] for w in widths], dtype=np.int64))
    values = np.array([np.concatenate([t[1].ravel(), [t[2]]]) for t in traced], dtype=np.int64)
    solution = np.linalg.lstsq(design.astype(float), values.astype(float), rcond=None)[0]
    coefficients = np.rint(solution).astype(np.int64)
    if np.linalg.matrix_rank(design.astype(float)) < design.shape[1] or \
            not np.array_equal(design @ coefficients, values):
        raise RuntimeError(f"NATS costs are not quadratic in the widths for pattern {pattern}")
    kernels = coefficients[:, :-1].reshape(design.shape[1], len(names), traced[0][1].shape[1])
    return PatternFit(pattern, slots, names, kernels, coefficients[:, -1], count)


def _tracer(dataset: str, batch: int, dtype: str) -> Callable[[tuple[int, ...]], tuple]:
    from intensity.api import analyze
    from intensity.explore.spaces import make_space

    space = make_space("nats-size", dataset=dataset)

    def trace(widths: tuple[int, ...]) -> tuple:
        report = analyze(space.build(":".join(map(str, widths))), batch=batch, dtype=dtype,
                         input_shape=space.input_shape)
        fields = np.array([[getattr(k, f) for f in FIELDS] for k in report.kernels], dtype=np.int64)
        return tuple(k.name for k in report.kernels), fields, report.totals.params

    return trace


def _works_tracer(dataset: str, batch: int, dtype: str, runtime: str) -> Callable[[tuple[int, ...]], tuple]:
    """Like `_tracer`, the kernels `runtime` launches (analysis/efficiency.py RUNTIMES) with their
    GEMM views; each kernel's class is part of its name, so the fit checks it never changes."""
    from intensity.analysis.efficiency import RUNTIMES
    from intensity.api import analyze
    from intensity.explore.spaces import make_space

    space, launch = make_space("nats-size", dataset=dataset), RUNTIMES[runtime]

    def trace(widths: tuple[int, ...]) -> tuple:
        report = analyze(space.build(":".join(map(str, widths))), batch=batch, dtype=dtype,
                         input_shape=space.input_shape, fusion=launch.fusion)
        works = launch(report.kernels)
        values = np.array([[getattr(w, f) for f in WORK_FIELDS] for w in works], dtype=float)
        if not np.array_equal(values, np.rint(values)):
            raise RuntimeError("NATS kernel works are not whole numbers; use exact tracing (`method` trace)")
        return tuple(f"{w.name}|{w.kind}" for w in works), values.astype(np.int64), report.totals.params

    return trace


def nats_fits(dataset: str, batch: int, dtype: str, progress: Progress | None = None,
              runtime: str | None = None) -> tuple[PatternFit, ...]:
    """The four pattern fits of one dataset, batch and dtype (about 70 traces, a few seconds);
    `progress` hears of each fitted pattern (cached ones report at once). With `runtime`, the fits
    of the kernels that runtime launches (the estimate's), not the bound's."""
    patterns = list(itertools.product((False, True), repeat=2))
    fits = []
    what = "fitting the closed form (patterns fitted)" + (f", {runtime} estimate" if runtime else "")
    notify(progress, what, 0, len(patterns))
    for done, pattern in enumerate(patterns, start=1):
        fits.append(_pattern_fit(dataset, batch, dtype, pattern, runtime))
        notify(progress, what, done, len(patterns))
    return tuple(fits)


def clear_fits() -> None:
    """Forget the fitted patterns, so the next sweep fits from cold (the speed benchmark's case)."""
    _pattern_fit.cache_clear()


@functools.lru_cache(maxsize=64)
def _pattern_fit(dataset: str, batch: int, dtype: str, pattern: tuple[bool, bool],
                 runtime: str | None = None) -> PatternFit:
    trace = _tracer(dataset, batch, dtype) if runtime is None else _works_tracer(dataset, batch, dtype, runtime)
    return fit_pattern(pattern, trace)


def nats_widths(indices: np.ndarray) -> np.ndarray:
    """NATS indices -> (n, 5) widths (last slot fastest)."""
    digits = np.stack([(indices // 8 ** (4 - s)) % 8 for s in range(5)], axis=1)
    return (digits + 1) * 8


@dataclass(frozen=True)
class NatsCosts:
    """Per-point kernel fields of a set of NATS networks, evaluated from the fits."""

    indices: np.ndarray  # (n,)
    kernels: list[np.ndarray]  # per point group: (n_group, kernels, fields)
    params: np.ndarray  # (n,)
    groups: list[np.ndarray]  # per pattern: positions into `indices`


def nats_costs(indices: np.ndarray, fits: tuple[PatternFit, ...]) -> NatsCosts:
    widths = nats_widths(indices)
    params = np.zeros(len(indices), dtype=np.int64)
    kernels, groups = [], []
    for fit in fits:
        mask = ((widths[:, 1] == widths[:, 2]) == fit.pattern[0]) & \
               ((widths[:, 3] == widths[:, 4]) == fit.pattern[1])
        where = np.flatnonzero(mask)
        design = _monomials(widths[where][:, list(fit.slots)] // 8)
        flat = design @ fit.coefficients.reshape(design.shape[1], -1)
        kernels.append(flat.reshape(len(where), len(fit.names), fit.coefficients.shape[2]))
        params[where] = design @ fit.params
        groups.append(where)
    return NatsCosts(indices, kernels, params, groups)


def waterline_arrays(flops: np.ndarray, nbytes: np.ndarray, peak: float, bandwidth: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised `roofline.waterline`: (latency, efficiency) of (n, kernels) arrays.

    Eqn 11 per kernel (max of compute and memory time), summed left to right as `waterline`
    does, so each float equals the scalar path exactly.
    """
    latency = np.zeros(flops.shape[0])
    for k in range(flops.shape[1]):
        latency = latency + np.maximum(flops[:, k] / peak, nbytes[:, k] / bandwidth)
    ideal = flops.sum(axis=1) / peak
    efficiency = np.divide(ideal, latency, out=np.zeros_like(latency), where=latency > 0)
    return latency, efficiency


def estimate_arrays(kinds: Sequence[str], values: np.ndarray, profile: object, spec: object, dtype: str
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised `efficiency.estimate`: (latency, efficiency) of networks whose kernels have the
    classes `kinds` and the numbers `values` (n, kernels, WORK_FIELDS), through the estimate's own
    per-kernel time (efficiency.class_time), summed in the same order, so each float equals it."""
    from intensity.analysis.efficiency import TENSOR, class_time, gemm_tile_efficiency

    latency = np.zeros(values.shape[0])
    for j, kind in enumerate(kinds):
        flops, nbytes, m, n, k, groups = (values[:, j, i] for i in range(len(WORK_FIELDS)))
        tiles = gemm_tile_efficiency(m, n, k, groups, spec.sms) if kind == TENSOR else 1.0
        latency = latency + class_time(kind, flops, nbytes, tiles, profile, spec, dtype)
    ideal = values[:, :, 0].sum(axis=1) / spec.peak_flops(dtype)
    efficiency = np.divide(ideal, latency, out=np.zeros_like(latency), where=latency > 0)
    return latency, efficiency


def nats_estimates(indices: np.ndarray, fits: tuple[PatternFit, ...], profile: object, spec: object,
                   dtype: str, batch: int, runtime: str) -> dict[int, dict]:
    """{index: ESTIMATE_METRICS} from the runtime's kernel fits (`nats_fits(..., runtime=)`)."""
    costs = nats_costs(indices, fits)
    results = {}
    for fit, group, values in zip(fits, costs.groups, costs.kernels):
        latency, efficiency = estimate_arrays([name.rsplit("|", 1)[1] for name in fit.names], values, profile,
                                              spec, dtype)
        for row, position in enumerate(group.tolist()):
            results[int(costs.indices[position])] = estimate_metrics(
                float(latency[row]), float(efficiency[row]), batch, runtime, profile.name)
    return results


def nats_metrics(space: Space, indices: np.ndarray, *, spec: object, dtype: str, batch: int,
                 alpha: float = DEFAULT_ALPHA, fits: tuple[PatternFit, ...] | None = None,
                 progress: Progress | None = None, runtime: str = "eager", profile: object = None,
                 work_fits: tuple[PatternFit, ...] | None = None) -> dict[int, dict]:
    """{index: metrics} for NATS networks, equal to `predicted_metrics` on each (with `profile`,
    an EfficiencyProfile, the `runtime`'s estimate too, from `work_fits` or fitted here)."""
    if space.name != "nats-size" or space.spec["dataset"] not in NATS_DATASETS:
        raise ValueError(f"the closed-form sweep covers nats-size only, not {space.name!r}")
    fits = fits or nats_fits(space.spec["dataset"], batch, dtype, progress)
    costs = nats_costs(np.asarray(indices, dtype=np.int64), fits)
    peak, bandwidth = spec.peak_flops(dtype), spec.bandwidth
    results = {}
    for group, values in zip(costs.groups, costs.kernels):
        field = {f: values[:, :, i] for i, f in enumerate(FIELDS)}
        nbytes = field["input_bytes"] + field["weight_bytes"] + field["output_bytes"]
        latency, efficiency = waterline_arrays(field["flops"], nbytes, peak, bandwidth)
        sums = {f: field[f].sum(axis=1).tolist() for f in FIELDS}
        for row, position in enumerate(group.tolist()):
            totals = Totals(values.shape[1], sums["flops"][row], int(costs.params[position]),
                            sums["input_bytes"][row], sums["weight_bytes"][row],
                            sums["output_bytes"][row], sums["weight_elements"][row],
                            sums["input_elements"][row] + sums["output_elements"][row], alpha)
            results[int(costs.indices[position])] = point_metrics(
                totals, float(latency[row]), float(efficiency[row]), batch)
    if profile is not None:
        work_fits = work_fits or nats_fits(space.spec["dataset"], batch, dtype, progress, runtime)
        for index, guess in nats_estimates(costs.indices, work_fits, profile, spec, dtype, batch, runtime).items():
            results[index].update(guess)
    return results


def all_nats_indices() -> np.ndarray:
    return np.arange(NATS_SIZE, dtype=np.int64)
