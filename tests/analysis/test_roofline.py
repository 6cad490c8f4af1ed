"""Roofline, waterline and Amdahl's roofline (seed 001 4, 4.3, App. B)."""
from __future__ import annotations

import pytest

from intensity.analysis.roofline import amdahl_speedups, kernel_latency, waterline
from intensity.analysis.batch_sweep import sweep_batch
from intensity.cost.fusion import Kernel

PEAK, BANDWIDTH = 100e12, 1e12  # op:byte 100


def kernel(flops: float, nbytes: float, name: str = "k") -> Kernel:
    return Kernel(name, "conv", "", [], [], [], [], int(flops), 0, 0, 0, 0, int(nbytes), 0, 0)


def test_kernel_latency_is_the_larger_of_compute_and_memory_time():
    assert kernel_latency(1e12, 1e9, PEAK, BANDWIDTH) == pytest.approx(0.01)  # 1e12/1e14 > 1e9/1e12
    assert kernel_latency(1e9, 1e9, PEAK, BANDWIDTH) == pytest.approx(0.001)  # memory: 1e9/1e12


@pytest.mark.parametrize("intensities", [(10, 20, 50), (200, 500, 1000)])
def test_waterline_equals_mediant_roofline_when_all_on_one_side(intensities):
    kernels = [kernel(i * 1e9, 1e9) for i in intensities]
    line = waterline(kernels, PEAK, BANDWIDTH)
    assert line.latency == pytest.approx(line.mediant_latency)
    assert line.efficiency == pytest.approx(line.mediant_efficiency)


def test_waterline_is_slower_than_mediant_roofline_when_mixed():
    # intensities 10 and 1000 around op:byte 100; the mediant is (10 + 1000) / 2 = 505 > 100,
    # so the roofline of the mediant says compute bound: 1.01e12 / 1e14 = 10.1 ms.
    # waterline: 1 ms (memory) + 10 ms (compute) = 11 ms; efficiency 10.1 / 11 = 91.8%
    line = waterline([kernel(1e10, 1e9), kernel(1e12, 1e9)], PEAK, BANDWIDTH)
    assert line.mediant_latency == pytest.approx(0.0101)
    assert line.latency == pytest.approx(0.011)
    assert line.efficiency == pytest.approx(0.0101 / 0.011)
    assert line.latency > line.mediant_latency


def test_amdahl_speedup_of_fixing_the_memory_bound_kernel():
    # fixing the memory-bound kernel: 11 ms -> 10 ms + 1e10 / 1e14 (0.1 ms) = 10.1 ms: 1.089x
    line = waterline([kernel(1e10, 1e9, "slow"), kernel(1e12, 1e9, "fast")], PEAK, BANDWIDTH)
    ((bound, speedup),) = amdahl_speedups(line)
    assert bound.name == "slow" and speedup == pytest.approx(0.011 / 0.0101)


def test_kernel_without_flops_costs_its_traffic():
    line = waterline([kernel(0, 2e9)], PEAK, BANDWIDTH)
    assert line.kernels[0].bound == "memory" and line.latency == pytest.approx(0.002)


def test_batch_sweep_plateaus_at_the_batch_limited_limit():
    points = sweep_batch("game-lol-gold1", [1, 16, 256, 4096], device="v100", dtype="fp16")
    intensities = [p.intensity for p in points]
    assert intensities == sorted(intensities)
    assert points[-1].intensity == pytest.approx(points[-1].intensity_limit, rel=1e-3)
    utilization = [p.utilization for p in points]
    assert utilization == sorted(utilization) and utilization[-1] < 1
    assert utilization[-1] - utilization[-2] < 0.001  # the plateau of seed 000 Fig. 3


def test_waterline_needs_a_device():
    with pytest.raises(ValueError, match="positive peak and bandwidth"):
        waterline([kernel(1, 1)], 0, BANDWIDTH)


def test_efficiency_vs_op_byte_seed001_fig4_shape():
    from intensity.analysis.roofline import efficiency_vs_op_byte

    mixed = [kernel(1e10, 1e9), kernel(1e12, 1e9)]  # intensities 10 and 1000
    rows = efficiency_vs_op_byte(mixed, [5, 100, 2000])
    # op:byte 5: both compute bound, 100%; op:byte 2000: both memory bound, the two agree
    assert rows[0][1] == pytest.approx(1.0) and rows[0][2] == pytest.approx(1.0)
    assert rows[2][1] == pytest.approx(rows[2][2])
    # in between the waterline is below the mediant's roofline (seed 001 4.3)
    assert rows[1][1] < rows[1][2]
    with pytest.raises(ValueError, match="op:byte ratios must be positive"):
        efficiency_vs_op_byte(mixed, [0])
