"""Measuring a calibration: the grid, the budget, one timed point, and calibrate-device end to end."""
from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from intensity.cli import app
from intensity.hardware.calibration import load
from intensity.measure import calibrate as module
from intensity.measure.calibrate import FULL, QUICK, Grid, calibrate, cases, time_case

TINY = Grid(channels=(4, 8), images=((1, 4), (1, 8)), linear_channels=(8,), rows=(1, 4),
            memory_elements=(2**10, 2**12), trials=2, min_seconds=0.001, flop_budget=1e9)


def test_grid_covers_every_kind_and_respects_the_budget():
    todo = cases(FULL)
    assert {c.kind for c in todo} == {"conv1x1", "conv3x3", "depthwise", "linear", "elementwise", "pool"}
    assert all(c.work <= FULL.flop_budget or c.size <= 1024 for c in todo if c.kind not in ("elementwise", "pool"))
    # every conv row keeps its sizes up to 1024 pixels even over budget: 1024-channel 3x3 at 1024
    # pixels is 2 * 1024 * 1024 * 9 * 1024 = 19.3 GFLOP > 2 GFLOP; at 4096 pixels it is skipped
    assert any(c.kind == "conv3x3" and c.channels == 1024 and c.size == 1024 for c in todo)
    assert not any(c.kind == "conv3x3" and c.channels == 1024 and c.size == 4096 for c in todo)
    assert len(cases(QUICK)) < len(todo)


def test_conv_case_work_is_hand_counted():
    case = next(c for c in cases(TINY) if c.kind == "conv3x3" and c.channels == 8 and c.size == 64)
    assert case.work == 2 * 8 * 8 * 9 * 64  # 2 flops per MAC, 8 x 8 x 3 x 3 weights, 64 output pixels


def test_time_case_returns_best_above_median():
    case = next(c for c in cases(TINY) if c.kind == "linear")
    point = time_case(case, TINY, "cpu")
    assert point.best >= point.median > 0 and point.spread >= 0


def test_calibrate_tiny_grid(monkeypatch):
    monkeypatch.setattr(module, "benchmark_peak", lambda *a, **k: _Fake(1e-3))
    monkeypatch.setattr(module, "benchmark_bandwidth", lambda *a, **k: _Fake(5.0))
    seen = []
    calibration = calibrate(grid=TINY, threads=1, progress=lambda *a: seen.append(a))
    assert calibration.machine["threads"] == 1 and calibration.dtype == "fp32"
    assert len(calibration.points) == len(cases(TINY))
    assert calibration.bandwidth == 5e9
    # the robust peak: the best of the matmul and of every compute point
    assert calibration.peak_flops == max([1e9] + [p.best for p in calibration.points
                                                  if p.kind not in ("elementwise", "pool")])
    assert seen[-1] == ("kernel grid", len(cases(TINY)), len(cases(TINY)))
    assert torch.get_num_threads() >= 1


def test_calibrate_rejects_missing_cuda():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ValueError, match="no CUDA device"):
        calibrate("cuda")


def test_calibrate_device_command(tmp_path, monkeypatch):
    monkeypatch.setattr(module, "QUICK", TINY)
    monkeypatch.setattr(module, "benchmark_peak", lambda *a, **k: _Fake(1e-3))
    monkeypatch.setattr(module, "benchmark_bandwidth", lambda *a, **k: _Fake(5.0))
    out = tmp_path / "cal.json"
    result = CliRunner().invoke(app, ["calibrate-device", "--quick", "--threads", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "conv3x3" in result.stdout and str(out) in result.output
    assert load(out).notes[-1] == "quick grid"


class _Fake:
    """A micro-benchmark result: best in TFLOP/s or GB/s."""

    def __init__(self, best: float) -> None:
        self.best = best

    def describe(self) -> str:
        return f"fake {self.best}"
