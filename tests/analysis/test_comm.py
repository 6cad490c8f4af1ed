import math

import pytest

from intensity.analysis.comm import comm_model, comm_seconds, comm_table

MB = 1e6


def test_by_hand_p1_p2_p128():
    # 100 MB of gradients at 1 GB/s
    bw = 1e9
    assert comm_seconds("parameter_server", 100 * MB, 1, bw) == pytest.approx(0.1)  # Eqn 3.3 as written
    assert comm_seconds("reduction_tree", 100 * MB, 1, bw) == 0  # 2 log2(1) = 0
    assert comm_seconds("ring", 100 * MB, 1, bw) == 0
    assert comm_seconds("parameter_server", 100 * MB, 2, bw) == pytest.approx(0.2)
    assert comm_seconds("reduction_tree", 100 * MB, 2, bw) == pytest.approx(0.2)  # 2 * 1
    assert comm_seconds("ring", 100 * MB, 2, bw) == pytest.approx(0.1)  # 2 * 1/2
    assert comm_seconds("parameter_server", 100 * MB, 128, bw) == pytest.approx(12.8)
    assert comm_seconds("reduction_tree", 100 * MB, 128, bw) == pytest.approx(1.4)  # 2 * 7 * 0.1
    assert comm_seconds("ring", 100 * MB, 128, bw) == pytest.approx(0.1 * 2 * 127 / 128)


def test_efficiency():
    rows = comm_table(100 * MB, [2], 1e9, compute_s=0.2)
    assert {r.strategy: r.efficiency for r in rows}["ring"] == pytest.approx(0.2 / 0.3)


def test_bad_input():
    with pytest.raises(ValueError, match="workers"):
        comm_seconds("ring", 1, 0, 1e9)
    with pytest.raises(ValueError, match="unknown strategy"):
        comm_seconds("star", 1, 2, 1e9)


@pytest.mark.parametrize("bandwidth", [-5, 0, float("nan"), float("inf")])
def test_bad_bandwidth_names_bandwidth_gbs_and_the_value_given(bandwidth):
    # checked before the model is built, in GB/s as given (not -5e9 bytes/s)
    with pytest.raises(ValueError, match=rf"`bandwidth_gbs` must be a positive number of GB/s, got {bandwidth:g};"):
        comm_model("noscope-coral", [1, 2], bandwidth)


def test_bad_workers_names_workers():
    with pytest.raises(ValueError, match="`workers` must be at least 1, got 0"):
        comm_model("noscope-coral", [2, 0], 7)
    with pytest.raises(ValueError, match="`workers` is empty"):
        comm_model("noscope-coral", [], 7)


def test_model_bytes():
    # noscope-coral fp32: conv 3->16 (448) + conv 16->16 (2320) + fc 25*25*16->128 (1_280_128) + fc 128->2 (258)
    gradient_bytes, compute, rows = comm_model("noscope-coral", [1, 2], 7, dtype="fp32", device="v100")
    assert gradient_bytes == 4 * (448 + 2320 + 1_280_128 + 258) and compute > 0 and len(rows) == 6
    assert not math.isnan(rows[-1].efficiency)
