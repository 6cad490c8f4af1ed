"""Calibrating DI's alpha against measured energy efficiency (seed 004 IV-B, VII).

For alpha in 0, 0.05, ..., 1, DI is computed for every model and correlated (Pearson r) with the
measured energy efficiency (MACs/J); AI_c is correlated too, for comparison. Fisher-z intervals
give the range of the population correlation: z = atanh(r), SE = 1 / sqrt(n - 3),
z +- q * SE mapped back with tanh (q = 1.96 for 95%, 2.58 for 99%).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from intensity.cost import reuse

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


def calibrate_alpha(rows: Sequence[ReuseRow], alphas: Sequence[float] = ALPHAS,
                    plateau: float = 0.01) -> Calibration:
    if len(rows) < 4:
        raise ValueError(f"calibration needs at least 4 models with measured energy, got {len(rows)}")
    energy = [row.energy_efficiency for row in rows]
    correlations = {a: _pearson([reuse.weighted_intensity(r.flops, r.weights, r.activations, a)
                                 for r in rows], energy) for a in alphas}
    best = max(correlations, key=correlations.get)
    chosen = min(a for a, r in correlations.items() if r >= correlations[best] - plateau)
    ai_c_r = _pearson([reuse.cumulative_intensity(r.flops, r.weights, r.activations) for r in rows],
                      energy)
    intervals = {name: [fisher_interval(r, len(rows), c) for c in (0.95, 0.99)]
                 for name, r in (("di", correlations[chosen]), ("ai_c", ai_c_r))}
    return Calibration(len(rows), correlations, best, chosen, ai_c_r, intervals)


REQUIRED_COLUMNS = ("model", "energy_efficiency")
COUNT_COLUMNS = ("flops", "weights", "activations")


def rows_from_table(path: str, batch: int = 1, fusion: str = "trivial") -> list[ReuseRow]:
    """Read a CSV of `model, energy_efficiency` (MACs/J) and optionally `flops, weights,
    activations`; models without counts are analysed (at `batch`) to get them."""
    import pandas as pd

    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"cannot read calibration table {path}: {error}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"calibration table {path} lacks column(s) {', '.join(missing)}; it needs "
                         f"model and energy_efficiency (MACs/J), optionally flops, weights, activations")
    return [_row(record, batch, fusion) for record in table.to_dict("records")]


def _row(record: dict, batch: int, fusion: str) -> ReuseRow:
    counts = [record.get(c) for c in COUNT_COLUMNS]
    if any(c is None or (isinstance(c, float) and math.isnan(c)) for c in counts):
        from intensity.api import analyze

        totals = analyze(str(record["model"]), batch=batch, fusion=fusion).totals
        counts = [totals.flops, totals.weight_elements, totals.activation_elements]
    return ReuseRow(str(record["model"]), *map(float, counts), float(record["energy_efficiency"]))
