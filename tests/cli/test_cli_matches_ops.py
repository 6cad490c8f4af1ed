"""Each command's JSON equals its operation's `to_dict()` called from Python: the CLI adds nothing
but parsing and printing (issue 16). One row per command: (id, argv, the operation call, how to
compare). To add a command, add a row; `{tmp}` in argv is a scratch folder with the files below.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

from intensity.cli import app
from intensity.ops import ModelRequest
from intensity.ops import analysis, kernels, measure
from intensity.ops import explore as ex
from intensity.ops import fold as fo
from intensity.ops import train as tr
from intensity.ops._serialize import jsonable

runner = CliRunner()
ENERGY = "model,energy_efficiency,flops,weights,activations\na,1,10,2,3\nb,2,20,3,5\nc,3,30,4,8\nd,5,40,4,9\n"
RECORDS = str(Path(__file__).parents[1] / "explore" / "data" / "sss-records.json")
ACCURACIES = "point,accuracy\n" + "".join(
    f'"base_e={b},incr_e=128,pct3x3=0.5,freq=2,sr=0.125,bypass=none",{a}\n' for b, a in ((64, 55), (128, 58)))
TIMM_RESULTS = ("model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation\n"
                "test_vit.r160_in1k,160,40.98,59.02,65.0,35.0,0.37,0.875,bicubic\n")
TIMM_BENCH = ("model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,"
              "infer_gmacs,infer_macts\ntest_vit,160,194812.41,5.235,1024,0.37,0.04,0.48\n")


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
    # -- explore (the store r.db, the table acc.csv and timm's files are made by the fixture)
    Case("space list", "space list", lambda tmp: ex.run_space_list()),
    Case("space show", "space show nats-size --limit 2", lambda tmp: ex.run_space_show(ex.SpaceRequest("nats-size"), 2)),
    Case("space show grid", "space show fire --grid base_e=64,128 --limit 1",
         lambda tmp: ex.run_space_show(ex.SpaceRequest("fire", ("base_e=64,128",)), 1)),
    Case("results", "results {tmp}/r.db", lambda tmp: ex.run_results(tmp / "r.db")),
    Case("pareto", "pareto {tmp}/r.db", lambda tmp: ex.run_pareto(ex.ParetoRequest(tmp / "r.db"))),
    Case("search", "search fire --grid base_e=64,128 --device a100-40gb --table {tmp}/acc.csv --strategy random "
                   "--budget-evals 2",
         lambda tmp: ex.run_search(ex.SearchRequest(ex.SpaceRequest("fire", ("base_e=64,128",)), tmp / "acc.csv",
                                                    "a100-40gb", "random", 2))),
    Case("sweep", "sweep nats-size --device a100-40gb --store {tmp}/r.db --points 0,11 --evaluator table "
                  f"--table {RECORDS}",  # resumed: both runs find the points stored; seconds differ
         lambda tmp: ex.run_sweep(ex.SweepRequest(ex.SpaceRequest("nats-size"), tmp / "r.db", "a100-40gb",
                                                  points="0,11", evaluator="table", table=RECORDS)), compare="keys"),
    Case("survey", "survey --data {tmp}/timm --store {tmp}/s.db --fold 0",
         lambda tmp: ex.run_survey(ex.SurveyRequest(tmp / "timm", tmp / "s.db", fold=0))),
    Case("survey compiled", "survey --data {tmp}/timm --store {tmp}/s2.db --fold 0 --runtime compiled",
         lambda tmp: ex.run_survey(ex.SurveyRequest(tmp / "timm", tmp / "s2.db", fold=0, runtime="compiled"))),
    Case("sweep compiled", "sweep nats-size --device a100-40gb --store {tmp}/r2.db --points 0 --runtime compiled",
         lambda tmp: ex.run_sweep(ex.SweepRequest(ex.SpaceRequest("nats-size"), tmp / "r2.db", "a100-40gb",
                                                  points="0", runtime="compiled")), compare="keys"),
    Case("changes", "changes nin", lambda tmp: ex.run_changes("nin")),
    # -- folding
    Case("cascade", "cascade --speedup 2.5 --accuracy-drop 0.0021 --relative-cost 83",
         lambda tmp: fo.run_cascade(2.5, 0.0021, 83)),
    Case("fold", "fold noscope-coral -f 2,4 -b 64 --device v100 --dtype fp16",
         lambda tmp: fo.run_fold(ModelRequest("noscope-coral", batch=64, device="v100", dtype="fp16"), [2, 4])),
    Case("fold defaults", "fold noscope-coral -f 2",
         lambda tmp: fo.run_fold(ModelRequest("noscope-coral", batch=1024), [2])),
    Case("scale", "scale noscope-coral -b 8 --device v100",
         lambda tmp: fo.run_scale(ModelRequest("noscope-coral", batch=8, device="v100"))),
    Case("bench-fold", "bench-fold noscope-coral -f 2 -b 4 --iters 1 --trials 1 --device v100",
         lambda tmp: fo.run_bench_fold(fo.BenchFoldRequest(ModelRequest("noscope-coral", batch=4, dtype="fp32",
                                                                        device="v100"), (2,), iters=1, trials=1)),
         compare="keys"),
    # -- data and training ({tmp}/run is trained by the `trained` fixture)
    Case("comm-model", "comm-model noscope-coral --workers 1,2 --device v100",
         lambda tmp: tr.run_comm_model(tr.CommRequest(ModelRequest("noscope-coral", batch=32, device="v100"), (1, 2)))),
    Case("evaluate", "evaluate {tmp}/run --data generated:game-lol-gold1",
         lambda tmp: tr.run_evaluate([str(tmp / "run")], "generated:game-lol-gold1")),
]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli-ops")
    (tmp / "energy.csv").write_text(ENERGY)
    (tmp / "acc.csv").write_text(ACCURACIES)
    (tmp / "timm").mkdir()
    (tmp / "timm" / "results-imagenet.csv").write_text(TIMM_RESULTS)
    (tmp / "timm" / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv").write_text(TIMM_BENCH)
    (tmp / "timm" / "benchmark-infer-amp-nchw-pt291-cu128-4090-dynamo.csv").write_text(TIMM_BENCH)
    ex.run_sweep(ex.SweepRequest(ex.SpaceRequest("nats-size"), tmp / "r.db", "a100-40gb", "fp16", points="0,11",
                                 evaluator="table", table=RECORDS))
    ex.run_survey(ex.SurveyRequest(tmp / "timm", tmp / "s.db", fold=0))  # cached: both runs read it
    return tmp


@pytest.fixture(scope="module")
def trained(scratch):
    """A one-epoch run in {tmp}/run, for evaluate."""
    from intensity.train.loop import TrainConfig

    return tr.run_train(TrainConfig("game-lol-gold1", "generated:game-lol-gold1", str(scratch / "run"), epochs=1,
                                    per_class=2))


def _keys(data: Any) -> Any:
    """The shape of a JSON value: dict keys and list lengths, not the numbers."""
    if isinstance(data, dict):
        return {key: _keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_keys(item) for item in data]
    return type(data).__name__ if not isinstance(data, (int, float)) or isinstance(data, bool) else "number"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cli_json_is_the_operations_dict(case, scratch, trained, monkeypatch):
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
    from intensity.cli import (
        analysis_commands, calibrate_commands, explore_commands, fold_commands, kernel_commands, measure_commands,
        train_commands,
    )

    modules = {m.__name__ for m in (analysis_commands, calibrate_commands, kernel_commands, measure_commands,
                                    explore_commands, fold_commands, train_commands)}
    names = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback.__module__ in modules}
    covered = {c.argv.split()[0] for c in CASES} | {"report", "gap", "calibrate-device",  # tests below / slow
                                                     "train", "make-dataset"}
    assert names <= covered, names - covered


def test_train_and_make_dataset_json_are_the_operations_dicts(tmp_path):
    """Their --out is the directory they write, so the command and its operation each write their own."""
    from intensity.train.loop import TrainConfig

    result = runner.invoke(app, ["train", "game-lol-gold1", "--data", "generated:game-lol-gold1", "--epochs", "1",
                                 "--per-class", "2", "--out", str(tmp_path / "run"), "--format", "json"])
    assert result.exit_code == 0, result.output
    python = tr.run_train(TrainConfig("game-lol-gold1", "generated:game-lol-gold1", str(tmp_path / "run2"), epochs=1,
                                      per_class=2)).to_dict()
    cli = json.loads(result.stdout)
    assert _keys(cli) == _keys(json.loads(json.dumps(jsonable(python), default=str)))
    assert cli["test_acc"] == python["test_acc"]  # seeded: the same run
    made = runner.invoke(app, ["make-dataset", "game-apex-count", "--per-class", "1", "--out", str(tmp_path / "d"),
                               "--format", "json"])
    python = tr.run_make_dataset("game-apex-count", tmp_path / "d2", per_class=1).to_dict()
    assert {**json.loads(made.stdout), "out": ""} == {**python, "out": ""}


def test_report_json_is_the_operations_dict(tmp_path, monkeypatch):
    monkeypatch.setenv("INTENSITY_CONFIG", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    result = runner.invoke(app, ["report", "noscope-coral", "-b", "8", "--out", str(tmp_path / "a"), "--format", "json"])
    assert result.exit_code == 0, result.output
    python = analysis.run_report(ModelRequest("noscope-coral", batch=8), tmp_path / "a").to_dict()
    assert json.loads(result.stdout) == json.loads(json.dumps(jsonable(python), default=str))
