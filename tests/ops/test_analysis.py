"""Analysis operations: typed results with rows and grids, validation in the library."""
from __future__ import annotations

import pytest

from intensity.ops import ModelRequest
from intensity.ops import analysis

CORAL = ModelRequest("noscope-coral", batch=4, dtype="fp16", device="v100")


def test_analyze_rows_are_kernels_and_grids_show_the_top():
    result = analysis.run_analyze(CORAL, top=2)
    rows = result.to_rows()
    assert len(rows) == len(result.report.kernels) and rows[0]["input_shape"] == "4x3x50x50"
    kernels, totals = result.grids()
    assert len(kernels.rows) == 2 and totals.title == "totals"
    assert result.to_dict()["device_from"] == "given" and result.header() == "dtype fp16, device v100"


def test_analyze_refuses_a_top_of_zero():
    with pytest.raises(ValueError, match="`top`"):
        analysis.run_analyze(CORAL, top=0)


def test_waterline_marks_the_devices_own_op_byte():
    result = analysis.run_waterline(CORAL, [10, 1000])
    own = 125e12 / 900e9  # V100 fp16 peak / bandwidth
    assert [r["op_byte"] for r in result.rows] == [10, pytest.approx(own), 1000]
    assert result.to_dict()["device_op_byte"] == pytest.approx(own)
    with pytest.raises(ValueError, match="`op_bytes`"):
        analysis.run_waterline(CORAL, [float("inf")])


def test_sweep_batch_points():
    result = analysis.run_sweep_batch(CORAL, [1, 64])
    assert [p["batch"] for p in result.to_rows()] == [1, 64] and result.grids()[0].rows[0][0] == "1"


def test_list_models_matching_nothing_is_an_error():
    with pytest.raises(ValueError, match="no zoo model matches"):
        analysis.run_list_models("zzz-none")


def test_devices_and_config():
    assert "v100" in {r["key"] for r in analysis.run_devices().to_rows()}
    assert set(analysis.run_config().to_dict()) >= {"dtype", "device", "dtype_from", "device_from"}
