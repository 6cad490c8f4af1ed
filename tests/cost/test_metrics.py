"""The traffic formulas' one home: intensity, limit and bound, by hand."""
from __future__ import annotations

from dataclasses import dataclass

from intensity.cost.metrics import TrafficMetrics, bound, intensity


@dataclass
class _Counts(TrafficMetrics):
    flops: int
    input_bytes: int
    weight_bytes: int
    output_bytes: int


def test_traffic_metrics_by_hand():
    counts = _Counts(flops=1200, input_bytes=100, weight_bytes=200, output_bytes=100)
    assert counts.bytes == 400 and counts.activation_bytes == 200
    assert counts.intensity == 3.0  # 1200 / 400
    assert counts.intensity_limit == 6.0  # 1200 / (100 + 100): weights amortised away


def test_intensity_of_nothing_moved_is_zero_not_an_error():
    assert intensity(0, 0) == 0.0 and _Counts(0, 0, 0, 0).intensity_limit is None


def test_bound_at_the_ridge():
    assert bound(1390, 10, 139.0) == "compute"  # exactly on the ridge counts as compute bound
    assert bound(1380, 10, 139.0) == "memory"
    assert bound(0, 10, 139.0) == "memory"  # a pool: no flops
    assert bound(10, 0, 139.0) == "compute"  # flops from registers only
