"""Each command's `--format json` equals its operation's result, serialized: the CLI adds nothing
and loses nothing (issue 16: 'a test checks that each CLI command and its operation give the
same JSON'). Rows: (id, argv, the operation call); `{tmp}` is a scratch folder with the fixtures
below. Timings and wall-clock seconds are the only fields left out of the comparison."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from intensity.cli import app
from intensity.ops import ModelRequest
from intensity.ops import explore as ex
from intensity.ops import fold as fo
from intensity.ops import train as tr
from intensity.ops._serialize import to_json

runner = CliRunner()
RECORDS = str(Path(__file__).parents[1] / "explore" / "data" / "sss-records.json")
ACCURACIES = "point,accuracy\n" + "".join(
    f'"base_e={b},incr_e=128,pct3x3=0.5,freq=2,sr=0.125,bypass=none",{a}\n' for b, a in ((64, 55), (128, 58)))
TIMM_RESULTS = ("model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation\n"
                "test_vit.r160_in1k,160,40.98,59.02,65.0,35.0,0.37,0.875,bicubic\n")
TIMM_BENCH = ("model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,"
              "infer_gmacs,infer_macts\ntest_vit,160,194812.41,5.235,1024,0.37,0.04,0.48\n")
VARYING = {"seconds", "images_per_s", "images_per_s_with_reshape", "utilization", "speedup",
           "speedup_with_reshape", "spread", "busy"}  # measured: differ from run to run


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli-ops")
    (tmp / "acc.csv").write_text(ACCURACIES)
    (tmp / "timm").mkdir()
    (tmp / "timm" / "results-imagenet.csv").write_text(TIMM_RESULTS)
    (tmp / "timm" / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv").write_text(TIMM_BENCH)
    ex.run_sweep(ex.SweepRequest(ex.SpaceRequest("nats-size"), tmp / "r.db", "a100-40gb", "fp16",
                                 points="0,11", evaluator="table", table=RECORDS))
    ex.run_survey(ex.SurveyRequest(tmp / "timm", tmp / "s.db", fold=0))  # cached: both runs read it
    return tmp


def _model(name: str = "noscope-coral", **options: object) -> ModelRequest:
    return ModelRequest(name, **options)


CASES = [
    ("space list", "space list", lambda t: ex.run_space_list()),
    ("space show", "space show nats-size --limit 2", lambda t: ex.run_space_show(ex.SpaceRequest("nats-size"), 2)),
    ("space show grid", "space show fire --grid base_e=64,128 --limit 1",
     lambda t: ex.run_space_show(ex.SpaceRequest("fire", ("base_e=64,128",)), 1)),
    ("results", "results {tmp}/r.db", lambda t: ex.run_results(t / "r.db")),
    ("pareto", "pareto {tmp}/r.db", lambda t: ex.run_pareto(ex.ParetoRequest(t / "r.db"))),
    ("search", "search fire --grid base_e=64,128 --device a100-40gb --table {tmp}/acc.csv --strategy random "
               "--budget-evals 2",
     lambda t: ex.run_search(ex.SearchRequest(ex.SpaceRequest("fire", ("base_e=64,128",)), t / "acc.csv",
                                              "a100-40gb", "random", 2))),
    ("sweep resumed", "sweep nats-size --device a100-40gb --store {tmp}/r.db --points 0,11 --evaluator table "
                      f"--table {RECORDS}",
     lambda t: ex.run_sweep(ex.SweepRequest(ex.SpaceRequest("nats-size"), t / "r.db", "a100-40gb", points="0,11",
                                            evaluator="table", table=RECORDS))),
    ("survey", "survey --data {tmp}/timm --store {tmp}/s.db --fold 0",
     lambda t: ex.run_survey(ex.SurveyRequest(t / "timm", t / "s.db", fold=0))),
    ("cascade", "cascade --speedup 2.5 --accuracy-drop 0.0021 --relative-cost 83",
     lambda t: fo.run_cascade(2.5, 0.0021, 83)),
    ("fold", "fold noscope-coral -f 2,4 -b 64 --device v100 --dtype fp16",
     lambda t: fo.run_fold(_model(batch=64, device="v100", dtype="fp16"), [2, 4])),
    ("fold defaults", "fold noscope-coral -f 2", lambda t: fo.run_fold(_model(batch=1024), [2])),
    ("scale", "scale noscope-coral -b 8 --device v100", lambda t: fo.run_scale(_model(batch=8, device="v100"))),
    ("bench-fold", "bench-fold noscope-coral -f 2 -b 4 --iters 1 --trials 1 --device v100",
     lambda t: fo.run_bench_fold(fo.BenchFoldRequest(_model(batch=4, dtype="fp32", device="v100"), (2,), iters=1,
                                                     trials=1))),
    ("comm-model", "comm-model noscope-coral --workers 1,2 --device v100",
     lambda t: tr.run_comm_model(tr.CommRequest(_model(batch=32, device="v100"), (1, 2)))),
]


@pytest.mark.parametrize(("argv", "operation"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cli_json_equals_the_operation(scratch, argv, operation):
    result = runner.invoke(app, [*argv.format(tmp=scratch).split(), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert _stable(json.loads(result.stdout)) == _stable(json.loads(to_json(operation(scratch).to_dict())))


def test_cli_csv_is_the_operation_rows(scratch):
    result = runner.invoke(app, ["results", str(scratch / "r.db"), "--format", "csv"])
    rows = ex.run_results(scratch / "r.db").to_rows()
    assert result.stdout.splitlines()[0].split(",")[:5] == list(rows[0])[:5]
    assert len(result.stdout.splitlines()) == 1 + len(rows)


def test_table_output_starts_with_the_settings_line(monkeypatch):
    """Issue 19: the dtype and device used, and where each came from, on the first line."""
    monkeypatch.setenv("INTENSITY_DEVICE", "v100")
    monkeypatch.delenv("INTENSITY_DTYPE", raising=False)
    monkeypatch.setenv("INTENSITY_CONFIG", "")
    result = runner.invoke(app, ["fold", "noscope-coral", "-f", "2", "-b", "64"])
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert "device v100 (default from INTENSITY_DEVICE)" in first and "dtype fp16" in first


def _stable(data: object) -> object:
    """`data` without the measured fields (timings differ between two runs)."""
    if isinstance(data, dict):
        return {k: _stable(v) for k, v in data.items() if k not in VARYING}
    if isinstance(data, list):
        return [_stable(v) for v in data]
    return data
