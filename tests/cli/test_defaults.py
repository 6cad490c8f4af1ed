"""One set of defaults (issue 19): the dtype and device come from INTENSITY_DTYPE/INTENSITY_DEVICE,
then the config file, then built-in fp16 on h100; table output says which in its first line, JSON
has them as keys, and `intensity config` shows them."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from intensity.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ("INTENSITY_DTYPE", "INTENSITY_DEVICE", "INTENSITY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no config file of the machine's user


def _first_line(argv):
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0]


def test_built_in_defaults_are_named_in_the_first_line():
    assert _first_line(["analyze", "noscope-coral"]) == "dtype fp16 (built-in default), device h100 (built-in default)"
    assert _first_line(["analyze", "noscope-coral", "--dtype", "fp32", "--device", "v100"]) == "dtype fp32, device v100"


def test_environment_changes_every_command(monkeypatch):
    monkeypatch.setenv("INTENSITY_DEVICE", "v100")
    monkeypatch.setenv("INTENSITY_DTYPE", "fp32")
    assert _first_line(["analyze", "noscope-coral"]) == ("dtype fp32 (default from INTENSITY_DTYPE), "
                                                         "device v100 (default from INTENSITY_DEVICE)")
    for argv in (["analyze", "noscope-coral"], ["roofline", "noscope-coral"], ["sweep-batch", "noscope-coral",
                                                                                "--batches", "4"]):
        data = json.loads(runner.invoke(app, [*argv, "--format", "json"]).stdout)
        assert data["dtype"] == "fp32" and data["dtype_from"] == "INTENSITY_DTYPE"
        assert data["device_from"] == "INTENSITY_DEVICE"


def test_config_file_changes_analyze(monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('dtype = "fp32"\ndevice = "v100"\n')
    monkeypatch.setenv("INTENSITY_CONFIG", str(config))
    assert _first_line(["analyze", "noscope-coral"]) == (f"dtype fp32 (default from {config}), "
                                                         f"device v100 (default from {config})")
    data = json.loads(runner.invoke(app, ["analyze", "noscope-coral", "--format", "json"]).stdout)
    assert data["dtype"] == "fp32" and data["device"]["name"] == "v100" and data["device"]["op_byte"] == pytest.approx(
        15.7e12 / 900e9, rel=0.01)


def test_the_users_config_file_is_read_from_home(tmp_path):
    (tmp_path / ".config" / "intensity").mkdir(parents=True)
    (tmp_path / ".config" / "intensity" / "config.toml").write_text('device = "t4"\n')
    assert _first_line(["analyze", "noscope-coral"]).endswith("device t4 (default from "
                                                              f"{tmp_path}/.config/intensity/config.toml)")


@pytest.mark.parametrize(("text", "fragment"), [
    ("dtype = fp32\n", "is not valid TOML"),
    ('colour = "red"\n', "unknown keys ['colour']"),
    ("dtype = 3\n", "must be non-empty strings"),
])
def test_a_bad_config_file_is_one_clear_error(monkeypatch, tmp_path, text, fragment):
    config = tmp_path / "config.toml"
    config.write_text(text)
    monkeypatch.setenv("INTENSITY_CONFIG", str(config))
    for argv in (["analyze", "noscope-coral"], ["config"]):
        result = runner.invoke(app, argv)
        assert result.exit_code == 2 and fragment in result.stderr and str(config) in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_named_config_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("INTENSITY_CONFIG", str(tmp_path / "nope.toml"))
    result = runner.invoke(app, ["analyze", "noscope-coral"])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_config_command_shows_the_defaults_and_their_sources(monkeypatch):
    monkeypatch.setenv("INTENSITY_DEVICE", "t4")
    data = json.loads(runner.invoke(app, ["config", "--format", "json"]).stdout)
    assert data["dtype"] == "fp16" and data["dtype_from"] == "built-in"
    assert data["device"] == "t4" and data["device_from"] == "INTENSITY_DEVICE"
    table = runner.invoke(app, ["config"]).stdout
    assert "INTENSITY_DEVICE" in table and "built-in" in table


@pytest.mark.parametrize(("variable", "value", "fragment"), [
    ("INTENSITY_DTYPE", "fp99", "(the default dtype, set by INTENSITY_DTYPE"),
    ("INTENSITY_DEVICE", "k80x", "(the default device, set by INTENSITY_DEVICE"),
])
def test_a_bad_default_names_where_it_was_set_and_config_reports_it(monkeypatch, variable, value, fragment):
    monkeypatch.setenv(variable, value)
    for argv in (["analyze", "noscope-coral"], ["config"]):
        result = runner.invoke(app, argv)
        assert result.exit_code == 2 and fragment in result.stderr, result.output


def test_a_config_file_value_that_is_unknown_is_refused_by_config(monkeypatch, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('dtype = "fp99"\n')
    monkeypatch.setenv("INTENSITY_CONFIG", str(path))
    result = runner.invoke(app, ["config", "--format", "json"])
    assert result.exit_code == 2 and f"set by {path}" in result.stderr


def test_a_config_path_that_is_a_directory_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("INTENSITY_CONFIG", str(tmp_path))
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2 and "is a directory, not a file" in result.stderr
