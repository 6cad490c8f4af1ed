"""DI calibration and Fisher-z intervals (seed 004 IV-B, VII, Table IX, Eqn 6)."""
from __future__ import annotations

import math

import pytest

from intensity.cost import reuse
from intensity.analysis.di_alpha import (
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
    assert minimum_samples(1.0, 0.95) == 19  # (2 * 1.96 / 1)^2 + 3 = 18.37 -> 19
    assert minimum_samples(1.0, 0.99) == 30  # (2 * 2.576)^2 + 3 = 29.54 -> 30
    # the seed's Delta_r at n = 25: the interval is 2 * 1.96 / sqrt(22) = 0.836 wide in z
    interval = fisher_interval(0.5, 25, 0.95, SEED_QUANTILES[0.95])
    assert math.atanh(interval.upper) - math.atanh(interval.lower) == pytest.approx(0.836, abs=1e-3)


def _synthetic(alpha: float) -> list[ReuseRow]:
    shapes = [(1e9, 1e6, 5e6), (2e9, 4e6, 2e6), (5e8, 1e5, 9e6), (3e9, 2e7, 1e6), (8e8, 3e6, 3e6),
              (1.5e9, 5e5, 4e6)]
    return [ReuseRow(f"m{i}", f, w, a, reuse.weighted_intensity(f, w, a, alpha))
            for i, (f, w, a) in enumerate(shapes)]


def test_calibration_recovers_the_alpha_that_generated_the_data():
    result = calibrate_alpha(_synthetic(0.6), plateau=0.0)
    assert result.best_alpha == 0.6 and result.correlations[0.6] == pytest.approx(1.0)
    assert len(result.correlations) == 21 and result.intervals["di"][0].lower == pytest.approx(1.0)
    # 6 models < seed 004's 19: a warning returned, not printed
    assert len(result.warnings) == 1 and "only 6 models" in result.warnings[0] and "19" in result.warnings[0]


def test_enough_models_give_no_warning():
    rows = [ReuseRow(f"m{i}", 1e9 * (1 + i), 1e6 * (1 + i % 5), 3e6 + 1e5 * i, 1e9 + 1e8 * i) for i in range(19)]
    assert calibrate_alpha(rows).warnings == []


@pytest.mark.parametrize(("change", "message"), [
    ({"energy_efficiency": -1.0}, r"row 2 \(m1\): energy_efficiency = -1.0 must be a positive number"),
    ({"weights": 0.0}, r"row 2 \(m1\): weights = 0.0 must be a positive number"),
    ({"flops": math.nan}, r"row 2 \(m1\): flops = nan must be a positive number"),
])
def test_bad_rows_are_named(change, message):
    import dataclasses

    rows = _synthetic(0.5)
    rows[1] = dataclasses.replace(rows[1], **change)
    with pytest.raises(ValueError, match=message):
        calibrate_alpha(rows)
    with pytest.raises(ValueError, match=message):  # named before the too-few-models error
        calibrate_alpha(rows[:3])


def test_constant_columns_are_clear_errors():
    rows = _synthetic(0.5)
    same_energy = [ReuseRow(r.model, r.flops, r.weights, r.activations, 5e9) for r in rows]
    with pytest.raises(ValueError, match="energy_efficiency is constant"):
        calibrate_alpha(same_energy)
    # every model 1e9 flops, 1e6 weights, 1e6 activations: DI and AI_c equal everywhere
    same_counts = [ReuseRow(f"m{i}", 1e9, 1e6, 1e6, 1e9 * (i + 1)) for i in range(5)]
    with pytest.raises(ValueError, match="AI_c .* is constant"):
        calibrate_alpha(same_counts)


def test_alphas_where_di_is_flat_are_left_out_with_a_warning():
    # flops = 1000 x weights in every row: at alpha 0, DI = 1/4 * weight reuse = 250 for all
    rows = [ReuseRow(f"m{i}", 1e9 * k, 1e6 * k, 1e6 * (i + 1), 1e9 * (i + 1))
            for i, k in enumerate((1, 2, 3, 5, 7))]
    result = calibrate_alpha(rows)
    assert 0.0 not in result.correlations and len(result.correlations) == 20
    assert any("constant (the same for every model) at alpha 0.00" in w for w in result.warnings)


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


@pytest.mark.parametrize(("text", "message"), [
    ("model,energy_efficiency,flops,weights,activations\nm0,fast,1,1,1\n",
     r"row 1 \(m0\): energy_efficiency = 'fast' is not a number"),
    ("model,energy_efficiency,flops,weights,activations\nm0,1e9,1e9,x,1\n",
     r"row 1 \(m0\): weights = 'x' is not a number"),
    ("", "cannot read calibration table"),
])
def test_bad_cells_and_files(tmp_path, text, message):
    path = tmp_path / "table.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        rows_from_table(str(path))
    with pytest.raises(ValueError, match="does not exist; give a CSV"):
        rows_from_table(str(tmp_path / "none.csv"))
