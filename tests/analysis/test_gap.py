"""Efficiency-gap identities (seed 001 Eqn 1-9) on a worked example."""
from __future__ import annotations

import math

import pytest

from intensity.analysis.gap import efficiency_gap


def test_identities_on_a_worked_example():
    # n = 4e12 operations on a 76.7 TFLOP/s A5000 (seed 001's base clock), measured 0.2 s:
    # t_i = 4e12 / 76.7e12 = 52.15 ms; R_a = 4e12 / 0.2 = 20 TFLOP/s; C = 20 / 76.7 = 26.1%
    gap = efficiency_gap("m", 4e12, 0.2, 76.7e12, accuracy=80.0)
    assert gap.ideal_latency == pytest.approx(4e12 / 76.7e12)  # Eqn 1
    assert gap.actual_flops == pytest.approx(20e12)  # Eqn 3
    assert gap.efficiency == pytest.approx(20 / 76.7)  # Eqn 7
    assert gap.efficiency == pytest.approx(gap.ideal_latency / gap.actual_latency)  # C = t_i / t_a
    assert gap.actual_latency == pytest.approx(gap.ideal_latency / gap.efficiency)  # Eqn 8
    assert math.log(gap.actual_latency) == pytest.approx(
        math.log(gap.ideal_latency) - math.log(gap.efficiency))  # Eqn 9
    assert gap.log_gap == pytest.approx(-math.log(gap.efficiency))


def test_gap_needs_positive_inputs():
    with pytest.raises(ValueError, match="positive flops"):
        efficiency_gap("m", 1e9, 0.0, 1e12)
