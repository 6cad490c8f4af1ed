"""The explore commands end to end on tiny inputs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from intensity.cli import app

runner = CliRunner()
RECORDS = str(Path(__file__).parent / "data" / "sss-records.json")


def run(*args: str):  # noqa: ANN201
    return runner.invoke(app, list(args))


def test_space_list_and_show():
    assert "nats-size" in run("space", "list").output
    shown = json.loads(run("space", "show", "nats-size", "--limit", "2", "--format", "json").stdout)
    assert shown["size"] == 32768
    assert [p["point"] for p in shown["points"]] == ["8:8:8:8:8", "8:8:8:8:16", "64:64:64:64:64"]


def test_sweep_with_table_then_results_and_pareto(tmp_path):
    store = str(tmp_path / "r.db")
    result = run("sweep", "nats-size", "--device", "a100-40gb", "--store", store, "--points", "0,11",
                 "--evaluator", "table", "--table", RECORDS)
    assert result.exit_code == 0, result.output
    rows = json.loads(run("results", store, "--format", "json").stdout)["rows"]
    assert [(r["point"], r["accuracy"], r["params"]) for r in rows] == [
        ("8:8:8:8:8", 79.79, 11714), ("8:8:8:16:32", 85.77, 49202)]
    assert run("results", store, "--format", "csv").stdout.startswith("point,batch,dtype")
    front = json.loads(run("pareto", store, "--objectives", "accuracy:max,throughput:max",
                           "--format", "json", "--plots", str(tmp_path / "plots")).stdout)
    # 8:8:8:8:8 is faster, 8:8:8:16:32 more accurate: both on the frontier
    assert {r["point"] for r in front["frontier"]} == {"8:8:8:8:8", "8:8:8:16:32"}
    assert (tmp_path / "plots" / "pareto.png").exists()


@pytest.mark.parametrize("args, message", [
    (("sweep", "nats-size", "--points", "0,1", "--evaluator", "table", "--table", RECORDS),
     "has no entry for 1 of 2 points"),
    (("sweep", "nats-size", "--points", "0", "--evaluator", "train"), "the train evaluator needs `data`"),
    (("sweep", "nats-size", "--points", "0", "--data", "generated:game-lol-gold1"), "need `evaluator` train"),
    (("sweep", "nats-size", "--points", "0", "--epochs", "2"), "need --data and --evaluator train"),
    (("sweep", "nats-size", "--points", "0", "--evaluator", "train", "--data", "x", "--lr", "-1"), "--lr must be"),
    (("sweep", "nats-size", "--points", "0", "--evaluator", "train", "--data", "generated:game-lol-gold1"),
     "has 11 classes but nats-size"),
    (("sweep", "nats-size", "--points", "0", "--evaluator", "train", "--data", "d", "--runs", ""), "is empty"),
    (("sweep", "nosuch", "--points", "0"), "unknown space"),
    (("sweep", "fire", "--grid", "base_e"), "malformed grid"),
])
def test_sweep_bad_input(tmp_path, args, message):
    result = run(*args, "--device", "a100-40gb", "--store", str(tmp_path / "x.db"))
    assert result.exit_code == 2
    assert message in result.output


def test_results_and_pareto_bad_input(tmp_path):
    corrupt = tmp_path / "c.db"
    corrupt.write_bytes(b"garbage" * 50)
    result = run("results", str(corrupt))
    assert result.exit_code == 2 and "not an intensity results store" in result.output
    assert corrupt.read_bytes() == b"garbage" * 50
    store = str(tmp_path / "r.db")
    assert run("sweep", "nats-size", "--device", "a100-40gb", "--store", store, "--points", "0").exit_code == 0
    result = run("pareto", store, "--objectives", "accuracy:max,speed:max")
    assert result.exit_code == 2 and "unknown objective 'speed'" in result.output
    result = run("pareto", store, "--objectives", "accuracy:max,throughput:max")
    assert result.exit_code == 2 and "lack accuracy" in result.output


def test_changes_search_and_survey_commands(tmp_path):
    rows = json.loads(run("changes", "nin", "--format", "json").stdout)["changes"]
    assert rows[5]["modification"] == "remove pool3 downsampling layer" and rows[5]["flops_ratio"] > 3.7
    table = tmp_path / "acc.csv"
    table.write_text("point,accuracy\n" + "".join(
        f'"base_e={b},incr_e=128,pct3x3=0.5,freq=2,sr=0.125,bypass=none",{a}\n' for b, a in ((64, 55), (128, 58))))
    found = json.loads(run("search", "fire", "--grid", "base_e=64,128", "--device", "a100-40gb",
                           "--table", str(table), "--strategy", "random", "--budget-evals", "2",
                           "--format", "json").stdout)
    assert found["evaluations"] == 2 and found["hypervolume_ratio"] == 1.0  # both points seen
    (tmp_path / "results-imagenet.csv").write_text(
        "model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation\n"
        "test_vit.r160_in1k,160,40.98,59.02,65.0,35.0,0.37,0.875,bicubic\n")
    (tmp_path / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv").write_text(
        "model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,"
        "infer_gmacs,infer_macts\ntest_vit,160,194812.41,5.235,1024,0.37,0.04,0.48\n")
    result = run("survey", "--data", str(tmp_path), "--store", str(tmp_path / "s.db"), "--fold", "0",
                 "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("model,top1,images_per_s,utilization,intensity")


def _timm(folder: Path) -> Path:
    (folder / "results-imagenet.csv").write_text(
        "model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation\n"
        "test_vit.r160_in1k,160,40.98,59.02,65.0,35.0,0.37,0.875,bicubic\n")
    (folder / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv").write_text(
        "model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,"
        "infer_gmacs,infer_macts\ntest_vit,160,194812.41,5.235,1024,0.37,0.04,0.48\n")
    return folder


@pytest.mark.parametrize("args, message", [
    (("--runtime", "jit"), "Invalid value for '--runtime': 'jit' is not one of 'eager', 'compiled'"),
    (("--profile", "none.json"), "--profile: efficiency profile none.json does not exist"),
    (("--profile", "{tmp}/dir"), "--profile: efficiency profile {tmp}/dir is a directory"),
    (("--profile", "{tmp}/bad.json"), "efficiency profile {tmp}/bad.json (--profile) lacks vector_efficiency"),
])
@pytest.mark.parametrize("command", ["sweep", "survey"])
def test_bad_runtime_or_profile_is_one_line_naming_the_option(tmp_path, command, args, message):
    (tmp_path / "bad.json").write_text('{"name": "x", "tensor_efficiency": 0.5}')
    (tmp_path / "dir").mkdir()
    base = ("sweep", "nats-size", "--points", "0", "--device", "a100-40gb") if command == "sweep" else \
        ("survey", "--data", str(_timm(tmp_path)), "--fold", "0")
    result = run(*base, "--store", str(tmp_path / "x.db"), *(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert message.format(tmp=tmp_path) in " ".join(result.output.split()), result.output
    assert not (tmp_path / "x.db").exists()


def test_a_profile_for_a_cpu_sweep_is_refused_before_measuring(tmp_path):
    (tmp_path / "p.json").write_text("{}")
    result = run("sweep", "nats-size", "--points", "0", "--device", "cpu", "--store", str(tmp_path / "x.db"),
                 "--profile", str(tmp_path / "p.json"))
    assert result.exit_code == 2 and "has no GPU estimate; leave out --profile" in result.output


def test_results_and_pareto_label_the_bound_and_the_estimate(tmp_path):
    store = str(tmp_path / "r.db")
    assert run("sweep", "nats-size", "--device", "a100-40gb", "--store", store, "--points", "0,11,4000",
               "--runtime", "compiled", "--evaluator", "table", "--table", RECORDS).exit_code == 2  # 4000 not in it
    assert run("sweep", "nats-size", "--device", "a100-40gb", "--store", store, "--points", "0,11",
               "--runtime", "compiled", "--evaluator", "table", "--table", RECORDS).exit_code == 0
    header = run("results", store, "--format", "csv").stdout.splitlines()[0].split(",")
    assert {"images_per_s", "estimate_images_per_s", "estimate_runtime"} <= set(header)
    from intensity.ops.explore import run_results

    (grid,) = run_results(store).grids()  # what the table draws: the headers say which figure is which
    assert {"bound: images_per_s", "bound: utilization", "estimate: images_per_s", "estimate: runtime"} <= \
        set(grid.columns) and "images_per_s" not in grid.columns
    front = json.loads(run("pareto", store, "--objectives", "accuracy:max,estimated_throughput:max",
                           "--format", "json").stdout)
    assert front["objectives"][1].startswith("estimated_throughput")
    for row in front["frontier"]:
        assert 0 < row["estimate_images_per_s"] and "estimate_utilization" in row


def test_survey_table_and_json_hold_bound_estimate_and_measured(tmp_path):
    data = _timm(tmp_path)
    result = run("survey", "--data", str(data), "--store", str(tmp_path / "s.db"), "--fold", "0")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "estimate vs measured (eager)" in text and "measurements beating the bound" in text
    found = json.loads(run("survey", "--data", str(data), "--store", str(tmp_path / "s.db"), "--fold", "0",
                           "--format", "json").stdout)
    (model,) = found["models"]
    assert found["runtime"] == "eager" and found["fidelity"]["models"] == 1
    assert 0 < model["estimate_images_per_s"] <= model["bound_images_per_s"]
