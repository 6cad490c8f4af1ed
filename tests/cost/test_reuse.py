"""Seed 004's reuse metrics: Table III ratios, Table VIII DI and d_f, and Eqn 5."""
from __future__ import annotations

import pytest
from torch import nn

from intensity import analyze
from intensity.cost import reuse

# Table III: N = M = 256, 28x28 maps, 3x3 filters, g = 4 (intensity, MACs, Mc/W, Mc/A vs standard)
TABLE_III = {
    "standard": (1.00, 1.000, 1, 1.000),
    "pointwise": (0.24, 0.111, 1, 0.111),
    "group": (0.45, 0.250, 1, 0.250),
    "depthwise": (0.01, 0.004, 1, 0.004),
}
LAYERS = {
    "standard": nn.Conv2d(256, 256, 3, padding=1, bias=False),
    "pointwise": nn.Conv2d(256, 256, 1, bias=False),
    "group": nn.Conv2d(256, 256, 3, padding=1, groups=4, bias=False),
    "depthwise": nn.Conv2d(256, 256, 3, padding=1, groups=256, bias=False),
}


def _layer_metrics(kind: str) -> tuple[float, float, float, float]:
    (kernel,) = analyze(LAYERS[kind], batch=1, input_shape=(256, 28, 28)).kernels
    w, a = kernel.weight_elements, kernel.activation_elements
    return (reuse.cumulative_intensity(kernel.flops, w, a), kernel.flops,
            reuse.weight_reuse(kernel.flops, w), reuse.activation_reuse(kernel.flops, a))


@pytest.mark.parametrize("kind", list(TABLE_III))
def test_seed004_table_iii_ratios(kind):
    # e.g. pointwise: AI = 256*256*784 / (65,536 + 512*784) = 110.0 vs standard 466.5 -> 0.24
    standard = _layer_metrics("standard")
    ratios = [value / base for value, base in zip(_layer_metrics(kind), standard)]
    expected = TABLE_III[kind]
    assert round(ratios[0], 2) == expected[0]
    assert round(ratios[1], 3) == expected[1]
    assert round(ratios[2], 0) == expected[2]
    assert round(ratios[3], 3) == expected[3]


@pytest.mark.parametrize(("model", "weight_reuse", "activation_reuse", "ai_c", "di", "d_f"), [
    ("AlexNet", 12, 362, 11, 73, -564),
    ("VGG-16", 112, 537, 93, 113, -22),
    ("NiN", 146, 291, 97, 66, 32),
    ("ResNet-50", 151, 83, 54, 24, 56),
    ("DenseNet-121", 386, 44, 40, 28, 30),
])
def test_seed004_table_viii_from_its_reuse_columns(model, weight_reuse, activation_reuse, ai_c, di, d_f):
    # With M_c = 1: W = 1 / weight reuse and A = 1 / activation reuse. The table's reuse columns
    # are rounded to integers, which moves the results by up to 1 (AlexNet: Mc/W in [11.5, 12.5)
    # gives AI_c in [11.1, 12.1]).
    w, a = 1 / weight_reuse, 1 / activation_reuse
    assert reuse.cumulative_intensity(1, w, a) == pytest.approx(ai_c, abs=1)
    assert reuse.weighted_intensity(1, w, a, alpha=0.8) == pytest.approx(di, abs=1)
    # d_f in the table is computed from its own rounded AI_c and DI columns
    assert round(reuse.disparity(ai_c, di)) == d_f


def test_disparity_closed_form_matches_definition_and_seed_eqn5_at_alpha_075():
    w, a = 3.0, 7.0
    flops = 1000.0
    for alpha in (0.0, 0.5, 0.75, 0.8, 1.0):
        direct = reuse.disparity(reuse.cumulative_intensity(flops, w, a),
                                 reuse.weighted_intensity(flops, w, a, alpha))
        assert reuse.disparity_closed_form(a / w, alpha) == pytest.approx(direct)
    # seed 004 Eqn 5 as printed: 75 - 6.25 (A/W + 3 W/A)
    assert reuse.disparity_closed_form(a / w, 0.75) == pytest.approx(75 - 6.25 * (a / w + 3 * w / a))


def test_eqn3_bound_ai_c_at_most_quarter_of_reuse_sum():
    for w, a in ((1.0, 1.0), (2.0, 9.0), (50.0, 0.5)):
        assert reuse.cumulative_intensity(1, w, a) <= 0.25 * (1 / w + 1 / a) + 1e-12


def test_alpha_outside_unit_interval_is_rejected():
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        reuse.weighted_intensity(1, 1, 1, alpha=-0.1)
