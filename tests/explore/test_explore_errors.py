"""Bad input to the explore commands: one clear line, exit 2, nothing left behind (QA probe)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from intensity.cli import app

runner = CliRunner()
RECORDS = str(Path(__file__).parent / "data" / "sss-records.json")
SEARCH = ("search", "nats-size", "--device", "a100-40gb")
BENCH = "benchmark-infer-amp-nchw-pt291-cu128-4090.csv"
BENCH_TEXT = "model,infer_img_size,infer_samples_per_sec,infer_batch_size,infer_gmacs\nm,160,1.0,1,0.1\n"


def run(*args: str):  # noqa: ANN201
    return runner.invoke(app, [str(a) for a in args])


def _files(tmp: Path) -> None:
    """The inputs the cases name, in `tmp`."""
    (tmp / "hdr.csv").write_text("point,accuracy\n")
    (tmp / "high.csv").write_text("point,accuracy\n0,50\n11,101\n")
    (tmp / "ok.csv").write_text("point,accuracy\n0,50\n")
    (tmp / "tabledir").mkdir()
    for name, results, bench in (("nocol", "model,top1\nm.a,50\n", BENCH_TEXT),
                                 ("binary", b"\xff\xfe\x00\x81garbage\x00", BENCH_TEXT)):
        (tmp / name).mkdir()
        target = tmp / name / "results-imagenet.csv"
        target.write_bytes(results) if isinstance(results, bytes) else target.write_text(results)
        (tmp / name / BENCH).write_text(bench)


CASES = [  # (item of the QA probe, arguments, expected in the one-line error)
    ("3 sweep bad fire grid", ("sweep", "fire", "--grid", "base_e=-5", "--device", "a100-40gb",
                               "--store", "{tmp}/f.db"), "fix --grid base_e=-5"),
    ("4 show bad fire grid", ("space", "show", "fire", "--grid", "base_e=-5"), "fix --grid base_e=-5"),
    ("4 show zero classes", ("space", "show", "squeezenet1_1", "--grid", "num_classes=0"),
     "fix --grid num_classes=0"),
    ("4 sweep zero classes", ("sweep", "squeezenet1_1", "--grid", "num_classes=10,0", "--device",
                              "a100-40gb", "--store", "{tmp}/z.db"), "fix --grid num_classes=0"),
    ("6 header-only table", (*SEARCH, "--table", "{tmp}/hdr.csv"), "has no records"),
    ("7 accuracy above 100", (*SEARCH, "--table", "{tmp}/high.csv"), "record 2 (8:8:8:16:32)"),
    ("8 g_t nan", (*SEARCH, "--table", RECORDS, "--g-t", "nan"), "--g-t"),
    ("8 g_t zero", (*SEARCH, "--table", RECORDS, "--g-t", "0"), "--g-t"),
    ("8 w negative", (*SEARCH, "--table", RECORDS, "--w", "-5"), "--w (Eqn 3's throughput weight) must"),
    ("12 points and sample", ("sweep", "nats-size", "--device", "a100-40gb", "--store", "{tmp}/p.db",
                              "--points", "0", "--sample", "5"), "give --points or --sample, not both"),
    ("13 split on a CSV", (*SEARCH, "--table", "{tmp}/ok.csv", "--split", "nosuch"),
     "--split applies only to NATS-Bench JSON records"),
    ("14 survey column missing", ("survey", "--data", "{tmp}/nocol", "--store", "{tmp}/sv.db"),
     "lacks column img_size; expected timm's results-imagenet.csv columns"),
    ("15 survey binary CSV", ("survey", "--data", "{tmp}/binary", "--store", "{tmp}/sv.db"),
     "results-imagenet.csv is not a readable CSV"),
    ("17 budget hours", (*SEARCH, "--table", RECORDS, "--budget-hours", "-1"), "--budget-hours must"),
    ("18 table is a directory", (*SEARCH, "--table", "{tmp}/tabledir"), "is a directory"),
    ("19 grid value type", ("space", "show", "squeezenet1_1", "--grid", "num_classes=abc"),
     "num_classes value 'abc' is not a int"),
]


@pytest.mark.parametrize(("item", "args", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(tmp_path, item, args, expected):
    _files(tmp_path)
    result = run(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert expected in result.output, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    # no store is created by a sweep that was refused (item 3)
    assert not list(tmp_path.glob("[fzp].db*")), item


def test_unreachable_scheduler_fails_fast_and_leaves_no_store(tmp_path):
    """Item 1: a closed local port is refused at once by the socket probe (Dask alone would retry
    until its timeout), with the fix in the message."""
    pytest.importorskip("distributed")
    store = tmp_path / "s.db"
    start = time.perf_counter()
    result = run("sweep", "nats-size", "--device", "a100-40gb", "--store", store, "--points", "0",
                 "--scheduler", "tcp://127.0.0.1:1")
    assert time.perf_counter() - start < 5
    assert result.exit_code == 2, result.output
    assert "cannot reach a Dask scheduler at tcp://127.0.0.1:1" in result.output
    assert "`dask scheduler` or use --workers N" in result.output
    assert not store.exists()


@pytest.mark.parametrize("address", ["nonsense", "tcp://127.0.0.1", "http://127.0.0.1:8786"])
def test_malformed_scheduler_address(tmp_path, address):
    result = run("sweep", "nats-size", "--device", "a100-40gb", "--store", tmp_path / "s.db",
                 "--points", "0", "--scheduler", address)
    assert result.exit_code == 2 and "cannot reach a Dask scheduler" in result.output, result.output


def test_failed_sweep_keeps_an_existing_store(tmp_path):
    """A refused rerun must not delete a store that was there before (only a fresh empty one goes)."""
    store = tmp_path / "r.db"
    assert run("sweep", "nats-size", "--device", "a100-40gb", "--store", store, "--points", "0").exit_code == 0
    result = run("sweep", "nats-size", "--device", "a100-40gb", "--store", store, "--points", "0",
                 "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and store.exists()


def test_empty_store_and_unmatched_filters(tmp_path):
    """Item 3: an empty store says so; item 19: a filter that matches nothing lists what is stored."""
    from intensity.explore.spaces import make_space
    from intensity.explore.store import Store

    empty = tmp_path / "empty.db"
    Store(empty, make_space("nats-size").key).close()
    result = run("results", empty)
    assert result.exit_code == 2 and f"no results in {empty}" in result.output, result.output
    store = tmp_path / "r.db"
    assert run("sweep", "nats-size", "--device", "a100-40gb", "--store", store, "--points", "0",
               "--evaluator", "table", "--table", RECORDS).exit_code == 0
    result = run("pareto", store, "--batch", "7")
    assert result.exit_code == 2, result.output
    for stored in ("batches 1", "devices a100-40gb", "dtypes fp16", "evaluators analytic+table:sss-records.json"):
        assert stored in result.output.replace("\n", " "), result.output


def test_grid_classes_shown_per_point():
    """Item 22 (minor): a grid over num_classes shows its values, not the model's default 1000."""
    import json

    result = run("space", "show", "squeezenet1_1", "--grid", "num_classes=10,100", "--format", "json")
    assert json.loads(result.stdout)["classes"] == [10, 100]


def test_closed_form_fit_reports_real_steps():
    """Item 22: the closed-form fit reports patterns fitted out of 4, not 0/None."""
    from intensity.explore.analytic import nats_fits

    heard = []
    fits = nats_fits("cifar10", 1, "fp16", progress=lambda what, done, total: heard.append((done, total)))
    assert len(fits) == 4
    assert heard == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
