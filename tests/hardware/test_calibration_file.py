"""Calibration files: round trip, interpolation on a hand-made grid, bad input, `calibrated[:FILE]`."""
from __future__ import annotations

import dataclasses
import json

import pytest

from intensity.hardware import get_spec
from intensity.hardware.calibration import (
    FORMAT_VERSION, Calibration, CalibratedSpec, CalibrationWarning, Point, check, default_path, load, save,
)
from intensity.hardware.calibration import machine_description


def hand_grid(machine: dict | None = None) -> Calibration:
    """conv3x3 at channels 8 and 32, sizes 64 and 256; rates quadruple per axis step:
    (8, 64) 1 GFLOP/s, (8, 256) 4, (32, 64) 4, (32, 256) 16; one memory row."""
    points = (Point("conv3x3", 8, 64, 1e9, 1e9), Point("conv3x3", 8, 256, 4e9, 4e9),
              Point("conv3x3", 32, 64, 4e9, 4e9), Point("conv3x3", 32, 256, 16e9, 16e9),
              Point("elementwise", 1, 1024, 2e9, 1e9), Point("elementwise", 1, 4096, 8e9, 4e9))
    return Calibration(machine or machine_description("cpu", 1), "fp32", 1e11, 1e10, points)


def test_round_trip(tmp_path):
    calibration = hand_grid()
    path = save(calibration, tmp_path / "c.json")
    assert load(path) == calibration
    assert json.loads(path.read_text())["version"] == FORMAT_VERSION


def test_interpolation_on_hand_grid():
    c = hand_grid()
    # at c = 8, size 128 is halfway between 64 and 256 in log2: rate sqrt(1e9 * 4e9) = 2e9;
    # at c = 32 the same: 8e9; c = 16 is halfway between 8 and 32: sqrt(2e9 * 8e9) = 4e9
    assert c.rate("conv3x3", 16, 128) == pytest.approx(4e9)
    assert c.rate("conv3x3", 8, 64) == pytest.approx(1e9)  # a grid point itself
    assert c.rate("conv3x3", 32, 10_000) == pytest.approx(16e9)  # above the largest size: the edge
    # the best trial by default: the memory row at 2048 bytes: sqrt(2e9 * 8e9); the median: sqrt(1e9 * 4e9)
    assert c.rate("elementwise", 1, 2048) == pytest.approx(4e9)
    assert dataclasses.replace(c, statistic="median").rate("elementwise", 1, 2048) == pytest.approx(2e9)


@pytest.mark.parametrize(("kind", "channels", "size"), [
    ("conv3x3", 64, 128),  # more channels than measured
    ("conv3x3", 4, 128),  # fewer
    ("conv3x3", 16, 32),  # a smaller problem than measured
    ("depthwise", 16, 128),  # a kind not measured
])
def test_outside_grid_has_no_rate(kind, channels, size):
    assert hand_grid().rate(kind, channels, size) is None


def test_other_machine_warns(tmp_path):
    path = save(hand_grid({**machine_description("cpu", 1), "host": "elsewhere", "cpu": "Other CPU"}),
                tmp_path / "c.json")
    with pytest.warns(CalibrationWarning) as caught:
        load(path)
    messages = " ".join(str(w.message) for w in caught)
    assert "'elsewhere'" in messages and "'Other CPU'" in messages


def test_other_version_warns(tmp_path):
    path = save(dataclasses.replace(hand_grid(), version=FORMAT_VERSION + 1), tmp_path / "c.json")
    with pytest.warns(CalibrationWarning, match="format version"):
        load(path)


@pytest.mark.parametrize("text", ["{not json", "[]", '{"format": "intensity-calibration", "points": []}'])
def test_corrupt_file_names_the_file(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError, match="bad.json") as error:
        load(path)
    assert "calibrate-device" in str(error.value)


def test_empty_grid_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="empty grid"):
        check(dataclasses.replace(hand_grid(), points=()))
    path = save(dataclasses.replace(hand_grid(), points=()), tmp_path / "empty.json")
    with pytest.raises(ValueError, match="empty grid"):
        load(path)


def test_missing_file_says_how_to_make_it(tmp_path):
    with pytest.raises(ValueError, match="calibrate-device --out"):
        load(tmp_path / "none.json")


def test_calibrated_device_resolves_file_and_default(tmp_path, monkeypatch):
    path = save(hand_grid(), tmp_path / "c.json")
    spec = get_spec(f"calibrated:{path}", "fp32")
    assert isinstance(spec, CalibratedSpec) and spec.calibration == hand_grid()
    assert spec.peak_flops("fp32") == pytest.approx(1e11) and spec.bandwidth == pytest.approx(1e10)
    assert type(spec.plain()) is not CalibratedSpec and spec.plain().peak_flops("fp32") == pytest.approx(1e11)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="intensity calibrate-device"):
        get_spec("calibrated", "fp32")
    save(hand_grid(), default_path())
    assert str(default_path()).startswith(str(tmp_path / "cache" / "intensity" / "calibration-"))
    assert get_spec("calibrated", "fp32").calibration == hand_grid()
    with pytest.raises(ValueError, match="no published fp16"):
        get_spec("calibrated", "fp16").peak_flops("fp16")
