"""Calibrating DI's alpha against measured energy efficiency (seed 004 IV-B, VII).

For alpha in 0, 0.05, ..., 1, DI is computed for every model and correlated (Pearson r) with the
measured energy efficiency (MACs/J); AI_c is correlated too, for comparison. Fisher-z intervals
give the range of the population correlation: z = atanh(r), SE = 1 / sqrt(n - 3),
z +- q * SE mapped back with tanh (q = 1.96 for 95%, 2.58 for 99%).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist

import numpy as np

from intensity.cost import reuse
from intensity.errors import check_file

ALPHAS = tuple(round(0.05 * i, 2) for i in range(21))


@dataclass(frozen=True)
class ReuseRow:
    """One model: its operations, weight and activation elements, and measured MACs/J."""

    model: str
    flops: float
    weights: float
    activations: float
    energy_efficiency: float


@dataclass(frozen=True)
class Interval:
    confidence: float
    lower: float
    upper: float

    @property
    def width(self) -> float:
        return self.upper - self.lower


@dataclass(frozen=True)
class Calibration:
    n: int
    correlations: dict[float, float]  # alpha -> Pearson r of DI vs energy efficiency
    best_alpha: float  # largest r
    plateau_alpha: float  # smallest alpha within `plateau` of the largest r (seed 004's choice)
    ai_c_r: float
    intervals: dict[str, list[Interval]]  # "di" (at plateau alpha) and "ai_c": 95% and 99%
    warnings: list[str] = field(default_factory=list)  # e.g. fewer models than seed 004's minimum


def _quantile(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf((1 + confidence) / 2)


SEED_QUANTILES = {0.95: 1.96, 0.99: 2.58}  # seed 004 rounds the normal quantiles


def fisher_interval(r: float, n: int, confidence: float = 0.95,
                    quantile: float | None = None) -> Interval:
    """Confidence interval of the population correlation from a sample r of n pairs.

    `quantile` overrides the exact normal quantile (pass SEED_QUANTILES[c] to match seed 004).
    """
    if n <= 3:
        raise ValueError(f"a Fisher-z interval needs more than 3 samples, got {n}")
    if not -1 <= r <= 1:
        raise ValueError(f"r must lie between -1 and 1, got {r}")
    if abs(r) == 1:  # a perfect sample correlation: atanh is infinite, the interval a point
        return Interval(confidence, r, r)
    spread = (quantile or _quantile(confidence)) / math.sqrt(n - 3)
    z = math.atanh(r)
    return Interval(confidence, math.tanh(z - spread), math.tanh(z + spread))


def minimum_samples(z_width: float = 1.0, confidence: float = 0.95) -> int:
    """Smallest n whose z-interval is at most `z_width` wide (seed 004 Eqn 6: 19 at 95%)."""
    return math.ceil((2 * _quantile(confidence) / z_width) ** 2 + 3)


def _pearson(x: Sequence[float], y: Sequence[float]) -> float:
    return float(np.corrcoef(np.asarray(x, float), np.asarray(y, float))[0, 1])


def _check_rows(rows: Sequence[ReuseRow]) -> None:
    """Every count and the energy efficiency must be a positive finite number."""
    for index, row in enumerate(rows, start=1):
        for name in ("flops", "weights", "activations", "energy_efficiency"):
            value = getattr(row, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"calibration row {index} ({row.model}): {name} = {value} must be a "
                                 f"positive number; fix or drop that row")


def _check_count(n: int) -> None:
    if n < 4:
        raise ValueError(f"calibration needs at least 4 models with measured energy, got {n}; "
                         f"seed 004 recommends at least {minimum_samples()}")


def _constant(values: Sequence[float]) -> bool:
    return max(values) - min(values) <= 1e-12 * max(abs(v) for v in values)


def _sample_size_warnings(n: int) -> list[str]:
    needed = minimum_samples()
    if n >= needed:
        return []
    return [f"only {n} models: seed 004 (Eqn 6) needs at least {needed} for a 95% Fisher-z interval "
            f"no wider than 1 in z; the correlations below are loose, add models to tighten them"]


def _correlations(rows: Sequence[ReuseRow], energy: list[float], alphas: Sequence[float],
                  warnings: list[str]) -> dict[float, float]:
    """Pearson r per alpha, leaving out (with a warning) alphas at which every model's DI is equal."""
    correlations, flat = {}, []
    for alpha in alphas:
        di = [reuse.weighted_intensity(r.flops, r.weights, r.activations, alpha) for r in rows]
        if _constant(di):
            flat.append(f"{alpha:.2f}")
        else:
            correlations[alpha] = _pearson(di, energy)
    if not correlations:
        raise ValueError("DI is constant (the same for every model at every alpha: flops, weights and "
                         "activations are proportional across rows); add models that differ")
    if flat:
        warnings.append(f"DI is constant (the same for every model) at alpha {', '.join(flat)}; those "
                        f"alphas are left out of the sweep")
    return correlations


def calibrate_alpha(rows: Sequence[ReuseRow], alphas: Sequence[float] = ALPHAS,
                    plateau: float = 0.01) -> Calibration:
    """Sweep alpha, correlate DI (and AI_c) with energy efficiency; warnings for small samples."""
    _check_rows(rows)
    energy = [row.energy_efficiency for row in rows]
    if len(rows) > 1 and _constant(energy):
        raise ValueError("energy_efficiency is constant (the same for every model), so no correlation "
                         "is defined; the table needs models whose measured MACs/J differ")
    ai_c = [reuse.cumulative_intensity(r.flops, r.weights, r.activations) for r in rows]
    if len(rows) > 1 and _constant(ai_c):
        raise ValueError("AI_c (flops / (weights + activations)) is constant (the same for every "
                         "model), so no correlation is defined; add models whose intensities differ")
    _check_count(len(rows))
    warnings = _sample_size_warnings(len(rows))
    correlations = _correlations(rows, energy, alphas, warnings)
    best = max(correlations, key=correlations.get)
    chosen = min(a for a, r in correlations.items() if r >= correlations[best] - plateau)
    ai_c_r = _pearson(ai_c, energy)
    intervals = {name: [fisher_interval(r, len(rows), c) for c in (0.95, 0.99)]
                 for name, r in (("di", correlations[chosen]), ("ai_c", ai_c_r))}
    return Calibration(len(rows), correlations, best, chosen, ai_c_r, intervals, warnings)


REQUIRED_COLUMNS = ("model", "energy_efficiency")
COUNT_COLUMNS = ("flops", "weights", "activations")


def rows_from_table(path: str, batch: int = 1, fusion: str = "trivial") -> list[ReuseRow]:
    """Read a CSV of `model, energy_efficiency` (MACs/J) and optionally `flops, weights,
    activations`; models without counts are analysed (at `batch`) to get them."""
    import pandas as pd

    check_file(path, "calibration table", "give a CSV with columns model, energy_efficiency (MACs/J) "
               "and optionally flops, weights, activations")
    try:
        table = pd.read_csv(path)
    except UnicodeDecodeError:
        raise ValueError(f"calibration table {path} is not text (a binary file such as an image?); give a CSV "
                         f"with columns model, energy_efficiency (MACs/J)") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"cannot read calibration table {path} as CSV: {error}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"calibration table {path} lacks column(s) {', '.join(missing)}; it needs "
                         f"model and energy_efficiency (MACs/J), optionally flops, weights, activations")
    return [_row(record, index, path, batch, fusion)
            for index, record in enumerate(table.to_dict("records"), start=1)]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: object, column: str, index: int, model: str, path: str) -> float:
    """A cell as a float, or an error naming the file, row, model and column."""
    try:
        if _missing(value):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"calibration table {path}, row {index} ({model}): {column} = {value!r} is "
                         f"not a number; write a plain number such as 1.5e9") from None


def _row(record: dict, index: int, path: str, batch: int, fusion: str) -> ReuseRow:
    model = str(record["model"])
    counts = [record.get(c) for c in COUNT_COLUMNS]
    if any(_missing(c) for c in counts):
        from intensity.api import analyze

        totals = analyze(model, batch=batch, fusion=fusion).totals
        counts = [totals.flops, totals.weight_elements, totals.activation_elements]
    numbers = [_number(v, c, index, model, path) for v, c in zip(counts, COUNT_COLUMNS, strict=True)]
    return ReuseRow(model, *numbers, _number(record["energy_efficiency"], "energy_efficiency", index, model, path))
