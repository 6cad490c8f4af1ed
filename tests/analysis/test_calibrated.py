"""Per-kernel time from a calibration: hand arithmetic, roofline fallback, folding a narrow CNN."""
from __future__ import annotations

import math

import pytest
import torch
from typer.testing import CliRunner

from intensity import analyze
from intensity.analysis.calibrated import calibrated_times, classify, kernel_time
from intensity.analysis.folding import predict_folding
from intensity.analysis.predict import predict
from intensity.cli import app
from intensity.hardware.calibration import Calibration, Point, machine_description, save, spec_from_calibration

PEAK, BANDWIDTH = 1e11, 1e10


def calibration(points) -> Calibration:  # noqa: ANN001
    return Calibration(machine_description("cpu", 1), "fp32", PEAK, BANDWIDTH, tuple(points))


def flat(rate: float, kinds=("conv3x3",), channels=(8, 32)) -> list[Point]:  # noqa: ANN001
    return [Point(k, c, s, rate, rate) for k in kinds for c in channels for s in (64, 4096)]


def conv_kernel(channels: int, size: int = 16, batch: int = 1):  # noqa: ANN202
    model = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
    return analyze(model, batch=batch, input_shape=(channels, size, size)).kernels[0]


def test_classify_kinds():
    k = conv_kernel(16)  # 1 x 16 x 16 x 16 output: 256 pixels
    assert classify(k) == ("conv3x3", 16, 256)
    depthwise = analyze(torch.nn.Conv2d(8, 8, 3, padding=1, groups=8), input_shape=(8, 4, 4)).kernels[0]
    assert classify(depthwise) == ("depthwise", 8, 16)
    grouped = analyze(torch.nn.Conv2d(8, 16, 1, groups=2), input_shape=(8, 4, 4)).kernels[0]
    assert classify(grouped) == ("conv1x1", math.sqrt(4 * 8), 16)  # per group: 4 in, 8 out
    linear = analyze(torch.nn.Linear(32, 8), input_shape=(32,), batch=4).kernels[0]
    assert classify(linear) == ("linear", 16, 4)  # sqrt(32 * 8), 4 rows


def test_calibrated_time_is_flops_over_interpolated_rate():
    # 16 channels, 256 pixels: flops 2 * 16 * 16 * 9 * 256 = 1,179,648; grid rate 1 GFLOP/s
    # everywhere: 1.179648 ms, far above the roofline's 1.18e6 / 1e11 = 11.8 us
    k = conv_kernel(16)
    t = kernel_time(k, calibration(flat(1e9)), PEAK, BANDWIDTH)
    assert not t.fallback and t.source == "calibrated"
    assert t.calibrated == pytest.approx(1_179_648 / 1e9)
    assert t.roofline == pytest.approx(max(1_179_648 / PEAK, k.bytes / BANDWIDTH))


def test_outside_grid_falls_back_to_roofline_and_says_so():
    k = conv_kernel(64)  # 64 channels: the grid stops at 32
    t = kernel_time(k, calibration(flat(1e9)), PEAK, BANDWIDTH)
    assert t.fallback and t.calibrated == t.roofline
    assert "outside the calibration grid" in t.source and "channels 64" in t.source


def test_calibrated_never_undercuts_the_roofline():
    t = kernel_time(conv_kernel(16), calibration(flat(1e15)), PEAK, BANDWIDTH)  # an impossible rate
    assert t.calibrated == t.roofline


def test_eager_epilogue_adds_an_elementwise_pass():
    model = torch.nn.Sequential(torch.nn.Conv2d(16, 16, 3, padding=1, bias=False), torch.nn.ReLU())
    k = analyze(model, input_shape=(16, 16, 16)).kernels[0]
    points = flat(1e9) + [Point("elementwise", 1, 1024, 4e9, 4e9), Point("elementwise", 1, 1 << 20, 4e9, 4e9)]
    t = kernel_time(k, calibration(points), PEAK, BANDWIDTH)
    # relu reads and writes the 16 x 16 x 16 fp32 output: 2 * 16 KiB = 32768 bytes at 4 GB/s
    assert t.epilogue == pytest.approx(32768 / 4e9)
    assert t.calibrated == pytest.approx(1_179_648 / 1e9 + 32768 / 4e9)
    assert kernel_time(k, calibration(points), PEAK, BANDWIDTH, eager_epilogues=False).epilogue == 0


def test_prediction_on_calibrated_device_keeps_the_roofline_as_bound():
    spec = spec_from_calibration(calibration(flat(1e9)))
    p = predict(torch.nn.Conv2d(16, 16, 3, padding=1), device=spec, dtype="fp32", batch=2, input_shape=(16, 8, 8))
    assert p.calibrated is not None and p.latency == pytest.approx(sum(k.calibrated for k in p.calibrated.kernels))
    assert p.roofline.latency <= p.latency
    plain = predict(torch.nn.Conv2d(16, 16, 3, padding=1), device=spec.plain(), dtype="fp32", batch=2,
                    input_shape=(16, 8, 8))
    assert plain.calibrated is None and plain.roofline.latency == pytest.approx(p.roofline.latency)


def narrow_calibration() -> Calibration:
    """Narrow convs reach 10% of peak (16 channels and fewer), 100% from 128 channels, log-linear
    between; linears at peak; memory at the bandwidth."""
    rates = {4: 0.1, 16: 0.1, 128: 1.0, 512: 1.0}
    points = [Point(k, c, s, r * PEAK, r * PEAK) for k in ("conv3x3", "conv1x1") for c, r in rates.items()
              for s in (64, 1 << 22)]
    points += [Point("linear", c, s, PEAK, PEAK) for c in (4, 4096) for s in (1, 4096)]
    points += [Point(k, 1, s, BANDWIDTH, BANDWIDTH) for k in ("elementwise", "pool") for s in (1024, 1 << 30)]
    return calibration(points)


def test_narrow_cnn_fold_speedup_exceeds_one_on_a_synthetic_calibration():
    spec = spec_from_calibration(narrow_calibration())
    calibrated = predict_folding("noscope-coral", [4], batch=1024, dtype="fp32", device=spec)[0]
    roofline = predict_folding("noscope-coral", [4], batch=1024, dtype="fp32", device=spec.plain())[0]
    # folding by 4 doubles the 16-channel convs to 32: 10% -> 10% * 10^(log2(2)/log2(8)) = 21.5% of peak
    assert calibrated.estimated_speedup > 1.3  # the calibrated times are the estimate ...
    assert calibrated.estimated_speedup > roofline.speedup
    assert calibrated.speedup == pytest.approx(roofline.speedup)  # ... and the bound stays the roofline's


def test_roofline_command_shows_calibrated_vs_roofline(tmp_path):
    path = save(narrow_calibration(), tmp_path / "c.json")
    result = CliRunner().invoke(app, ["roofline", "noscope-coral", "--device", f"calibrated:{path}",
                                      "--dtype", "fp32", "--batch", "8"])
    assert result.exit_code == 0, result.output
    assert "calibrated ms" in result.stdout and "upper bound" in result.stdout
    json_result = CliRunner().invoke(app, ["roofline", "noscope-coral", "--device", f"calibrated:{path}",
                                           "--dtype", "fp32", "--format", "json"])
    assert json_result.exit_code == 0, json_result.output
    assert '"calibrated_latency"' in json_result.stdout
