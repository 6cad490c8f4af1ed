"""Seed 002 Table 4.1: each modification of NiN reproduces the seed's ratios within 0.1."""
from __future__ import annotations

import pytest

from intensity.explore.changes import TABLE_4_1, changes


def test_table_4_1_ratios_within_0_1():
    found = {c.modification: c for c in changes("nin")}
    assert set(TABLE_4_1) <= set(found)
    for name, (kind, seed) in TABLE_4_1.items():
        change = found[name]
        assert change.kind == kind
        ours = (change.output_ratio, change.params_ratio, change.flops_ratio)
        assert ours == pytest.approx(seed, abs=0.1), name
    # local changes move totals little, global ones multiply them (the seed's key finding)
    assert found["remove pool3 downsampling layer"].flops_ratio > 3.5
    # hand check: 4000 classes add 3000 conv12 filters of 1024x1x1 + bias to ~7.6 M params
    assert found["4x more categories to classify"].params - found["initial CNN (NiN)"].params == 3000 * 1025


def test_changes_of_another_model_is_an_error():
    with pytest.raises(ValueError, match="intensity changes nin"):
        changes("resnet18")
