"""The explore operations and commands lose nothing (issue 19): an --out onto an input is refused
with the input's bytes unchanged, a store is locked while written, a failed command leaves no file,
`--points ''` is an error, an accuracy above 100 % is never stored."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import intensity
from intensity.cli import app
from intensity.explore.spaces import make_space
from intensity.explore.store import Store, new_row, writing
from intensity.ops import explore as ex
from intensity.output import OutputError, locked

runner = CliRunner()
RECORDS = str(Path(__file__).parents[1] / "explore" / "data" / "sss-records.json")
SWEEP = ("sweep", "nats-size", "--device", "a100-40gb", "--points", "0")


def run(*args: object):  # noqa: ANN201
    return runner.invoke(app, [str(a) for a in args])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "S.db"
    result = run(*SWEEP, "--store", path, "--evaluator", "table", "--table", RECORDS)
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("command", [("results", "{store}", "--out", "{store}"),
                                     ("pareto", "{store}", "--out", "{store}"),
                                     ("pareto", "{store}", "--format", "json", "--out", "{link}"),
                                     ("sweep", "nats-size", "--device", "a100-40gb", "--points", "0",
                                      "--store", "{store}", "--out", "{store}")])
def test_out_onto_the_store_is_refused_and_the_store_is_unchanged(store, tmp_path, command):
    (tmp_path / "link").symlink_to(store)  # a link to the input is the input
    before = _digest(store)
    result = run(*[a.format(store=store, link=tmp_path / "link") for a in command])
    assert result.exit_code == 2 and "is an input of this command" in result.stderr, result.output
    assert _digest(store) == before


def test_search_out_onto_its_table_is_refused(tmp_path):
    table = tmp_path / "A.json"
    table.write_text(Path(RECORDS).read_text())
    before = _digest(table)
    result = run("search", "nats-size", "--device", "a100-40gb", "--table", table, "--out", table)
    assert result.exit_code == 2 and "is an input of this command" in result.stderr, result.output
    assert _digest(table) == before


def test_survey_out_onto_its_data_or_store_is_refused(tmp_path):
    data = tmp_path / "timm"
    data.mkdir()
    (data / "results-imagenet.csv").write_text("model,img_size,top1\n")
    (data / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv").write_text("x\n")
    for out in (data / "results-imagenet.csv", tmp_path / "s.db"):
        (tmp_path / "s.db").write_bytes(b"")
        result = run("survey", "--data", data, "--store", tmp_path / "s.db", "--out", out)
        assert result.exit_code == 2 and "is an input of this command" in result.stderr, result.output
    assert (data / "results-imagenet.csv").read_text() == "model,img_size,top1\n"


def test_a_failed_survey_leaves_no_store(tmp_path):
    result = run("survey", "--data", tmp_path / "nothing", "--store", tmp_path / "s.db")
    assert result.exit_code == 2 and "is missing" in result.stderr, result.output
    assert list(tmp_path.iterdir()) == []  # no store, no lock file


def test_a_failed_sweep_leaves_no_store_but_keeps_an_existing_one(tmp_path, store):
    fresh = tmp_path / "new" / "x.db"
    result = run(*SWEEP, "--store", fresh, "--evaluator", "table", "--table", tmp_path / "missing.csv")
    assert result.exit_code == 2 and "does not exist" in result.stderr and not fresh.parent.exists()
    before = _digest(store)
    result = run("sweep", "nats-size", "--device", "a100-40gb", "--points", "1", "--store", store,
                 "--evaluator", "table", "--table", RECORDS)  # point 1 is not in the table
    assert result.exit_code == 2 and store.exists() and _digest(store) == before


def test_empty_points_is_an_error_not_every_point(tmp_path):
    result = run("sweep", "nats-size", "--device", "a100-40gb", "--store", tmp_path / "x.db", "--points", "")
    assert result.exit_code == 2 and "is empty" in result.stderr, result.output
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="is empty"):
        ex.run_sweep(ex.SweepRequest(ex.SpaceRequest("nats-size"), tmp_path / "y.db", "a100-40gb", points=[]))


def test_an_accuracy_above_100_is_refused_before_storing(tmp_path):
    key = make_space("nats-size").key
    with Store(tmp_path / "r.db", key) as store:
        with pytest.raises(ValueError, match="outside 0..100"):
            store.add([new_row(key, "8:8:8:8:8", 1, "fp16", "x", "table", {"accuracy": 190.0}),
                       new_row(key, "8:8:8:8:16", 1, "fp16", "x", "table", {"accuracy": 90.0})])
        assert store.rows() == []  # none of the batch was stored
    table = tmp_path / "high.csv"
    table.write_text("point,accuracy\n0,190\n")
    result = run(*SWEEP, "--store", tmp_path / "s.db", "--evaluator", "table", "--table", table)
    assert result.exit_code == 2 and "outside 0..100" in result.stderr and not (tmp_path / "s.db").exists()


def test_a_second_sweep_into_a_locked_store_gets_a_clear_error(tmp_path, store):
    before = _digest(store)
    with locked(store, "results store"):
        result = run(*SWEEP, "--store", store)
    assert result.exit_code == 2 and "is being written by another process" in result.stderr, result.output
    assert _digest(store) == before


def test_two_processes_writing_one_store(tmp_path):
    """A real second process holds the store (a running sweep): the CLI's sweep is refused at once."""
    path = tmp_path / "shared.db"
    holder = textwrap.dedent(f"""
        import sys, time
        from intensity.explore.spaces import make_space
        from intensity.explore.store import writing
        with writing({str(path)!r}, make_space("nats-size").key):
            print("held", flush=True)
            sys.stdin.readline()
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(intensity.__file__).parents[1])}
    process = subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, env=env)
    try:
        assert process.stdout.readline().strip() == "held"
        result = run(*SWEEP, "--store", path)
        assert result.exit_code == 2 and "is being written by another process" in result.stderr, result.output
        with pytest.raises(OutputError, match="another process"), writing(path, make_space("nats-size").key):
            pytest.fail("a second writer opened the store")
    finally:
        process.communicate("done\n", timeout=60)
    assert run(*SWEEP, "--store", path).exit_code == 0  # released: the next sweep proceeds


def test_results_csv_is_the_operation_rows(store):
    result = run("results", store, "--format", "csv")
    rows = ex.run_results(store).to_rows()
    assert result.stdout.splitlines()[0].split(",")[:5] == list(rows[0])[:5] == ["point", "batch", "dtype", "device",
                                                                                  "evaluator"]
    assert len(result.stdout.splitlines()) == 1 + len(rows)
