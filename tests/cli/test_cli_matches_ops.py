"""Each command's JSON equals its operation's `to_dict()` called from Python: the CLI adds nothing
but parsing and printing (issue 16). One row per command: (id, argv, the operation call, how to
compare). To add a command, add a row; `{tmp}` in argv is a scratch folder with the files below.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

from intensity.cli import app
from intensity.ops import ModelRequest
from intensity.ops import analysis, kernels, measure
from intensity.ops._serialize import jsonable

runner = CliRunner()
ENERGY = "model,energy_efficiency,flops,weights,activations\na,1,10,2,3\nb,2,20,3,5\nc,3,30,4,8\nd,5,40,4,9\n"


@dataclass(frozen=True)
class Case:
    id: str
    argv: str
    call: Callable[[Any], Any]  # scratch folder -> the operation's result
    compare: str = "equal"  # "equal", or "keys" for measurements (timings differ from run to run)


CASES = [
    Case("analyze", "analyze noscope-coral -b 8 --device v100 --dtype fp32",
         lambda tmp: analysis.run_analyze(ModelRequest("noscope-coral", batch=8, device="v100", dtype="fp32"))),
    Case("analyze defaults", "analyze noscope-coral --only conv",
         lambda tmp: analysis.run_analyze(ModelRequest("noscope-coral"), only=["conv"])),
    Case("roofline", "roofline noscope-coral -b 64 --device t4 --fusion none",
         lambda tmp: analysis.run_roofline(ModelRequest("noscope-coral", batch=64, device="t4", fusion="none"))),
    Case("roofline overrides", "roofline noscope-coral --peak-tflops 10 --bandwidth-gbs 100",
         lambda tmp: analysis.run_roofline(ModelRequest("noscope-coral", peak_tflops=10, bandwidth_gbs=100))),
    Case("waterline", "waterline noscope-coral --device v100 --op-bytes 10,1000",
         lambda tmp: analysis.run_waterline(ModelRequest("noscope-coral", batch=128, device="v100"), [10, 1000])),
    Case("sweep-batch", "sweep-batch noscope-coral --batches 1,64 --dtype bf16 --device a100",
         lambda tmp: analysis.run_sweep_batch(ModelRequest("noscope-coral", dtype="bf16", device="a100"), [1, 64])),
    Case("calibrate-di", "calibrate-di {tmp}/energy.csv",
         lambda tmp: analysis.run_calibrate_di(tmp / "energy.csv")),
    Case("devices", "devices", lambda tmp: analysis.run_devices()),
    Case("list-models", "list-models noscope-*", lambda tmp: analysis.run_list_models("noscope-*")),
    Case("config", "config", lambda tmp: analysis.run_config()),
    Case("fuse", "fuse convfirstnet-pico", lambda tmp: kernels.run_fuse(ModelRequest("convfirstnet-pico", batch=2))),
    Case("fusion-grid", "fusion-grid --block mbconv --device a5000-base --network ''",
         lambda tmp: kernels.run_fusion_grid(ModelRequest("", batch=128, device="a5000-base"), block="mbconv",
                                             network="")),
    Case("largest-batch", "largest-batch noscope-coral --memory-gb 1 --limit 512",
         lambda tmp: measure.run_largest_batch(ModelRequest("noscope-coral"), memory_gb=1, limit=512)),
    Case("measure", "measure noscope-coral -b 2 --iters 1 --trials 1",
         lambda tmp: measure.run_measure(measure.MeasureRequest(ModelRequest("noscope-coral", batch=2, device="measured"),
                                                                iters=1, trials=1)), compare="keys"),
]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli-ops")
    (tmp / "energy.csv").write_text(ENERGY)
    return tmp


def _keys(data: Any) -> Any:
    """The shape of a JSON value: dict keys and list lengths, not the numbers."""
    if isinstance(data, dict):
        return {key: _keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_keys(item) for item in data]
    return type(data).__name__ if not isinstance(data, (int, float)) or isinstance(data, bool) else "number"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cli_json_is_the_operations_dict(case, scratch, monkeypatch):
    monkeypatch.setenv("INTENSITY_CONFIG", "")  # the built-in defaults, whatever the machine has
    monkeypatch.setenv("HOME", str(scratch))
    argv = [arg.replace("''", "").format(tmp=scratch) for arg in case.argv.split()] + ["--format", "json"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    python = json.loads(json.dumps(jsonable(case.call(scratch).to_dict()), default=str))
    if case.compare == "keys":
        cli, python = _keys(cli), _keys(python)
    assert cli == python


def test_every_command_of_these_modules_has_a_row():
    """A new command in an operations-based module must join the table above."""
    from intensity.cli import analysis_commands, calibrate_commands, kernel_commands, measure_commands

    modules = {m.__name__ for m in (analysis_commands, calibrate_commands, kernel_commands, measure_commands)}
    names = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback.__module__ in modules}
    covered = {c.argv.split()[0] for c in CASES} | {"report", "gap", "calibrate-device"}  # tests below / slow
    assert names <= covered, names - covered


def test_report_json_is_the_operations_dict(tmp_path, monkeypatch):
    monkeypatch.setenv("INTENSITY_CONFIG", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    result = runner.invoke(app, ["report", "noscope-coral", "-b", "8", "--out", str(tmp_path / "a"), "--format", "json"])
    assert result.exit_code == 0, result.output
    python = analysis.run_report(ModelRequest("noscope-coral", batch=8), tmp_path / "a").to_dict()
    assert json.loads(result.stdout) == json.loads(json.dumps(jsonable(python), default=str))
