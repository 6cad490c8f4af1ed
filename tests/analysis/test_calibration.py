"""DI calibration and Fisher-z intervals (seed 004 IV-B, VII, Table IX, Eqn 6)."""
from __future__ import annotations

import pytest

from intensity.cost import reuse
from intensity.analysis.calibration import (
    SEED_QUANTILES, ReuseRow, calibrate_alpha, fisher_interval, minimum_samples, rows_from_table,
)

# Table VI r values (n = 25) -> Table IX: (95% L, U), (99% L, U)
TABLE_IX = [
    (0.52, (0.16, 0.76), (0.03, 0.81)),  # P4000 AI_c
    (0.83, (0.65, 0.92), (0.57, 0.94)),  # P4000 DI
    (0.23, (-0.18, 0.57), (-0.30, 0.66)),  # P100 AI_c
    (0.64, (0.33, 0.83), (0.21, 0.86)),  # P100 DI
]


@pytest.mark.parametrize(("r", "ci95", "ci99"), TABLE_IX)
def test_seed004_table_ix_intervals(r, ci95, ci99):
    # e.g. r = 0.52: z = atanh(0.52) = 0.576, SE = 1/sqrt(22) = 0.213; tanh(0.576 -+ 1.96 * 0.213)
    # = (0.157, 0.759). Table VI prints r to two decimals and Table IX was computed from the
    # unrounded r (r = 0.83 gives a 99% lower bound of 0.564, printed 0.57): one unit of slack.
    for confidence, expected in ((0.95, ci95), (0.99, ci99)):
        interval = fisher_interval(r, 25, confidence, SEED_QUANTILES[confidence])
        assert interval.lower == pytest.approx(expected[0], abs=0.0101)
        assert interval.upper == pytest.approx(expected[1], abs=0.0101)


def test_seed004_eqn6_minimum_sample_size():
    assert minimum_samples(1.0, 0.95) == 19  # phi >= 18.37
    assert 2 * 1.96 / (25 - 3) ** 0.5 == pytest.approx(0.836, abs=1e-3)  # the seed's Delta_r at 25


def _synthetic(alpha: float) -> list[ReuseRow]:
    shapes = [(1e9, 1e6, 5e6), (2e9, 4e6, 2e6), (5e8, 1e5, 9e6), (3e9, 2e7, 1e6), (8e8, 3e6, 3e6),
              (1.5e9, 5e5, 4e6)]
    return [ReuseRow(f"m{i}", f, w, a, reuse.weighted_intensity(f, w, a, alpha))
            for i, (f, w, a) in enumerate(shapes)]


def test_calibration_recovers_the_alpha_that_generated_the_data():
    result = calibrate_alpha(_synthetic(0.6), plateau=0.0)
    assert result.best_alpha == 0.6 and result.correlations[0.6] == pytest.approx(1.0)
    assert len(result.correlations) == 21 and result.intervals["di"][0].lower == pytest.approx(1.0)


def test_table_input_and_its_errors(tmp_path):
    good = tmp_path / "energy.csv"
    good.write_text("model,energy_efficiency\nnoscope-coral,1e9\nnoscope-taipei,2e9\n"
                    "squeezenet1_0,3e9\nnin,2.5e9\n")
    rows = rows_from_table(str(good))
    assert [r.model for r in rows] == ["noscope-coral", "noscope-taipei", "squeezenet1_0", "nin"]
    assert all(r.flops > 0 and r.weights > 0 and r.activations > 0 for r in rows)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,joules\na,1\n")
    with pytest.raises(ValueError, match="lacks column"):
        rows_from_table(str(bad))
    with pytest.raises(ValueError, match="at least 4 models"):
        calibrate_alpha(rows[:3])
