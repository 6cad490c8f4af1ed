"""Every user mistake gets one clear line on stderr, exit code 2, no traceback, and loses nothing.

Each row: the command line (``{tmp}`` is a scratch directory holding the fixtures below), the exit
code, and a fragment the message must contain. The table is the contract of issue 8 section 3.
"""
from __future__ import annotations

import json
import shlex
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from intensity.cli import app

runner = CliRunner()

CASES = [
    # -- model names and inputs
    ("unknown zoo model", "analyze noscope-corl", "did you mean 'noscope-coral'"),
    ("unknown torchvision model", "analyze torchvision:resnet19", "unknown torchvision model"),
    ("unknown timm model", "analyze timm:resnet_nope", "unknown timm model"),
    ("module that does not import", "analyze no_such_pkg_xyz:build", "cannot import 'no_such_pkg_xyz'"),
    ("callable that is missing", "analyze badmodels:nothing_here", "has no attribute 'nothing_here'"),
    ("callable that raises", "analyze badmodels:raises", "badmodels:raises"),
    ("callable that needs arguments", "analyze badmodels:needs_args", "badmodels:needs_args"),
    ("callable returning a non-module", "analyze badmodels:not_a_module", "not a torch.nn.Module"),
    ("bad nats-size string", "analyze nats-size:8:8:8", "nats-size"),
    ("input shape malformed", "analyze noscope-coral --input 3by50", "malformed input shape"),
    ("input shape zero", "analyze noscope-coral --input 3x0x50", "positive dimensions"),
    ("model does not run at input", "analyze noscope-coral --input 1x50x50", "(1, 1, 50, 50)"),
    # -- numbers and choices
    ("batch zero", "analyze noscope-coral --batch 0", "'--batch'"),
    ("batch not a number", "analyze noscope-coral --batch many", "'--batch'"),
    ("unknown dtype", "analyze noscope-coral --dtype fp12", "unknown dtype 'fp12'"),
    ("amp in fp32", "analyze noscope-coral --amp --dtype fp32", "--amp (torch.autocast) runs in fp16 or bf16"),
    ("measure amp in fp32", "measure noscope-coral --amp --dtype fp32 --device v100",
     "--amp (torch.autocast) runs in fp16 or bf16, not fp32"),
    ("amp on a command that has none", "fold noscope-coral --amp", "No such option: --amp"),
    ("unknown device", "analyze noscope-coral --device k80", "unknown device 'k80'"),
    ("device lacks dtype", "analyze noscope-coral --device tpuv1 --dtype fp32", "no published fp32 peak"),
    ("unknown fusion", "analyze noscope-coral --fusion blk", "'blk' is not one of"),
    ("block without block fusion", "analyze noscope-coral --block Conv2d", "set --fusion to block"),
    ("block fusion without blocks", "analyze noscope-coral --fusion block", "needs --block"),
    ("unknown --only kind", "analyze noscope-coral --only convs", "unknown kernel kind"),
    ("alpha out of range", "analyze noscope-coral --alpha 2", "--alpha must be a finite number in [0, 1]"),
    ("peak override infinite", "analyze noscope-coral --peak-tflops inf", "positive finite"),
    ("bandwidth override infinite", "roofline noscope-coral --bandwidth-gbs inf", "positive finite"),
    ("negative peak override", "analyze noscope-coral --device v100 --peak-tflops -1", "must be a positive"),
    ("top zero", "analyze noscope-coral --top 0", "'--top'"),
    ("top negative", "analyze noscope-coral --top -3", "'--top'"),
    # -- --format is a validated choice everywhere
    ("format analyze", "analyze noscope-coral --format xml", "'xml' is not one of"),
    ("format roofline", "roofline noscope-coral --device v100 --format yaml", "'yaml' is not one of"),
    ("format waterline", "waterline noscope-coral --device v100 --format html", "'html' is not one of"),
    ("format sweep", "sweep-batch noscope-coral --device v100 --format tsv", "'tsv' is not one of"),
    ("format devices", "devices --format xml", "'xml' is not one of"),
    ("format list-models", "list-models --format xml", "'xml' is not one of"),
    ("format fold", "fold noscope-coral --format xml", "'xml' is not one of"),
    ("format bench-fold", "bench-fold noscope-coral --format xml", "'xml' is not one of"),
    ("format measure", "measure noscope-coral --format xml", "'xml' is not one of"),
    ("format gap", "gap noscope-coral --format xml", "'xml' is not one of"),
    ("format calibrate-di", "calibrate-di {tmp}/energy.csv --format xml", "'xml' is not one of"),
    ("format scale", "scale noscope-coral --format xml", "'xml' is not one of"),
    ("format config", "config --format xml", "'xml' is not one of"),
    ("format largest-batch", "largest-batch noscope-coral --format xml", "'xml' is not one of"),
    ("format fusion-grid", "fusion-grid --format xml", "'xml' is not one of"),
    ("unknown attention", "analyze noscope-coral --attention fast", "'fast' is not one of"),
    ("out onto /dev/stdout", "devices --out /dev/stdout", "leave out --out to print to stdout"),
    ("out onto the spec read", "roofline noscope-coral --device {tmp}/ok.toml --out {tmp}/ok.toml",
     "is an input of this command"),
    ("waterline infinite op:byte", "waterline noscope-coral --op-bytes inf", "--op-bytes"),
    # -- comma-separated numbers
    ("empty factor", "fold noscope-coral -f 2,,3", "malformed -f '2,,3'"),
    ("factor zero", "fold noscope-coral -f 0", "malformed -f"),
    ("factor text", "fold noscope-coral -f two", "malformed -f"),
    ("bench-fold empty factor", "bench-fold noscope-coral -f 2,", "malformed -f"),
    ("batches malformed", "sweep-batch noscope-coral --device t4 --batches 0,x", "malformed --batches"),
    ("op-bytes negative", "waterline noscope-coral --device v100 --op-bytes 10,-5", "malformed --op-bytes"),
    ("accuracy count", "gap noscope-coral noscope-night --accuracy 0.9", "--accuracy has 1 values"),
    ("accuracy text", "gap noscope-coral --accuracy high", "malformed --accuracy"),
    ("plots without accuracy", "gap noscope-coral --plots {tmp}/plots", "give --accuracy too"),
    # -- measurement options
    ("measure on an unknown device", "measure noscope-coral --on tpu", "'tpu' is not a backend; choose one of cpu, cuda"),
    ("measure iters zero", "measure noscope-coral --iters 0", "'--iters'"),
    ("measure int8", "measure noscope-coral --dtype int8", "int8 is for analysis only"),
    ("measure cuda without a GPU", "measure noscope-coral --on cuda", "CUDA"),
    ("largest-batch memory zero", "largest-batch noscope-coral --memory-gb 0", "'--memory-gb'"),
    # -- transforms
    ("cascade speedup below 1", "cascade --speedup 0.8 --accuracy-drop 0.01", "--speedup 0.8"),
    ("cascade speedup zero", "cascade --speedup 0 --accuracy-drop 0.01", "--speedup 0"),
    ("cascade relative cost negative", "cascade --speedup 2 --accuracy-drop 0.01 --relative-cost -1", "--relative-cost"),
    ("fold rounding unknown", "fold noscope-coral -f 2 --rounding up", "rounding"),
    ("scale phi absurd", "scale noscope-coral --phi 40", "phi"),
    ("scale phi absurd negative", "scale noscope-coral --phi -40", "phi"),
    # -- hardware spec files
    ("spec file missing", "analyze noscope-coral --device {tmp}/none.toml", "does not exist"),
    ("spec file not TOML", "analyze noscope-coral --device {tmp}/broken.toml", "not valid TOML"),
    ("spec peak zero", "analyze noscope-coral --device {tmp}/zero.toml --dtype fp16", "zero.toml"),
    ("spec peak not a number", "analyze noscope-coral --device {tmp}/text.toml --dtype fp16", "text.toml"),
    ("spec lacks bandwidth", "analyze noscope-coral --device {tmp}/nobw.toml --dtype fp16", "bandwidth_gbs"),
    # -- calibrate-di tables
    ("calibration file missing", "calibrate-di {tmp}/nothing.csv", "nothing.csv"),
    ("calibration columns missing", "calibrate-di {tmp}/columns.csv", "lacks column"),
    ("calibration negative efficiency", "calibrate-di {tmp}/negative.csv", "energy_efficiency"),
    ("calibration zero weights", "calibrate-di {tmp}/zero_weights.csv", "weights"),
    ("calibration constant column", "calibrate-di {tmp}/constant.csv", "constant"),
    # -- output places
    ("--out is a directory", "analyze noscope-coral --out {tmp}", "is a directory"),
    ("--out below a file", "analyze noscope-coral --out {tmp}/energy.csv/r.json", "is a file, not a directory"),
    ("--out unwritable", "analyze noscope-coral --out /proc/intensity.json", "/proc/intensity.json"),
    ("report --out is a file", "report noscope-coral --out {tmp}/energy.csv", "is a file"),
    ("report --out below a file", "report noscope-coral --out {tmp}/energy.csv/rep", "is a file"),
    ("list-models no match", "list-models zzz-no-such", "no zoo model matches"),
    # -- found by the probe of this release
    ("batch too large to index", "analyze noscope-coral -b 99999999999999999999", "more than a tensor can index"),
    ("cascade infinite speedup", "cascade --speedup inf --accuracy-drop 0.1", "finite positive"),
    ("cascade drop above 1", "cascade --speedup 2.5 --accuracy-drop 1.5", "--accuracy-drop is a fraction"),
    ("device is a directory", "analyze noscope-coral --device {tmp}", "is a directory, not a file"),
    ("calibration table is a directory", "calibrate-di {tmp}", "is a directory, not a file"),
    ("calibrated device is a directory", "analyze noscope-coral --device calibrated:{tmp}", "is a directory"),
    ("spec file is binary", "analyze noscope-coral --device {tmp}/binary.toml", "is not text"),
    ("empty --out", "analyze noscope-coral --out", "--out"),
    ("unknown command", "analyse noscope-coral", "No such command 'analyse'"),
    # -- validated numbers and sizes (issue 19 section 2), several inputs (section 3)
    ("infinite bandwidth", "analyze noscope-coral --device v100 --bandwidth-gbs inf",
     "'--bandwidth-gbs': inf must be a positive finite number"),
    ("nan peak", "analyze noscope-coral --device v100 --peak-tflops nan", "'--peak-tflops': nan must be a positive finite"),
    ("fold factor that cannot fit", "fold noscope-coral -f 99999999999999", "would need about"),
    ("per-class that cannot fit", "make-dataset game-lol-gold1 --out {tmp}/ds --per-class 99999999999",
     "would need about 8.8 TB"),
    ("fold with two inputs", "fold noscope-coral --input 3x50x50 --input 3x50x50", "takes one image input, not 2"),
    ("unknown input dtype", "analyze noscope-coral --input 3x50x50:int65", "unknown input dtype 'int65'"),
    ("two inputs to a one-input model", "analyze noscope-coral --input 3x50x50 --input 3x50x50",
     "inputs of shapes (1, 3, 50, 50), (1, 3, 50, 50)"),
    ("missing argument", "analyze", "Missing argument"),
    # -- found by the release probe (qa)
    ("profile for a CPU device", "roofline noscope-coral --device cpu --profile {tmp}/ok.toml",
     "has no GPU estimate; leave out --profile"),
    ("sweep timing options without --measure", "sweep nats-size --sample 1 --iters 3 --store {tmp}/s.db",
     "--iters set how points are timed; give --measure"),
    ("train distillation options without a teacher",
     "train game-lol-gold1 --data generated:game-lol-gold1 --temperature 2 --out {tmp}/run",
     "distillation options --temperature need --teacher"),
    ("train curriculum options without a curriculum",
     "train game-lol-gold1 --data generated:game-lol-gold1 --per-class 1 --epochs 1 --every 3 --out {tmp}/run",
     "curriculum options --every need a curriculum"),
    ("measure a batch no memory holds", "measure noscope-coral -b 1000000000000 --iters 1 --trials 1",
     "does not fit in the memory of cpu"),
    ("report measurement options without --measure", "report noscope-coral --measure-batch 8 --out {tmp}/rep",
     "--measure-batch set how the report measures: give --measure too"),
    ("export of a text file", "export {tmp}/energy.csv --out {tmp}/m.onnx", "is corrupt or not an intensity checkpoint"),
    # -- the vague answers left by that probe
    ("an image named as a model file", "analyze pic.png:build", "a .png file, not Python"),
    ("an image as a calibration table", "calibrate-di {tmp}/binary.toml", "is not text"),
    ("export of an empty run path", "export '' --out {tmp}/m.onnx", "the run to export is empty"),
    ("evaluate an empty checkpoint path", "evaluate '' --data generated:game-lol-gold1", "a checkpoint path is empty"),
    # -- found by the third probe (qa3): fit-device
    ("fit-device empty --gpu", "fit-device --published {tmp} --gpu '' --out {tmp}-p.json", "--gpu is empty"),
    ("fit-device cache is a file", "fit-device --published {tmp} --gpu rtx4090 --out {tmp}-p.json "
     "--cache {tmp}/energy.csv", "energy.csv is a file, not a folder"),
    ("fit-device table of unreadable rows", "fit-device --published {tmp} --gpu rtx4090 --out {tmp}-p.json "
     "--cache {tmp}-cache", "2 rows of the table were skipped (resnet18: unreadable numbers"),
    ("profile of another runtime", "roofline noscope-coral --device rtx4090 --runtime compiled "
     "--profile {tmp}/eager-profile.json", "is for the 'eager' runtime, not 'compiled'; give --runtime eager"),
    ("profile of an unknown runtime", "fold noscope-coral -f 2 --device rtx4090 --profile {tmp}/onnx-profile.json",
     "is for the 'onnx' runtime, not 'eager'; give a profile written by"),
    ("sweep with a profile of another runtime", "sweep nats-size --device rtx4090 --store {tmp}/s.db --points 0 "
     "--runtime compiled --profile {tmp}/eager-profile.json", "is for the 'eager' runtime"),
    ("survey with a profile of another runtime", "survey --data {tmp} --store {tmp}/s.db --runtime compiled "
     "--profile {tmp}/eager-profile.json", "is for the 'eager' runtime"),
    ("roofline of a model without kernels", "roofline badmodels:identity --input 3x8x8 --device t4",
     "has no kernel to predict"),
    ("sweep-batch with a repeated batch", "sweep-batch noscope-coral --device v100 --batches 1,1,2",
     "lists 1 more than once; give each batch size once"),
    # -- a survey's --out over a file of its data folder (the probe overwrote timm's README that way)
    ("survey out replacing a data file", "survey --data {tmp} --store {tmp}-s.db --out {tmp}/energy.csv",
     "already exists in the data folder"),
    ("a profile from before clocks", "roofline noscope-coral --device rtx4090 --profile {tmp}/old-profile.json",
     "was written by an older intensity"),
]

PROFILE = ('{{"name": "rtx4090", "runtime": "{runtime}", "tensor_efficiency": 0.7, "vector_efficiency": 0.06, '
           '"memory_efficiency": 0.9, "tensor_issue_bytes": 1.5, "overhead_us": 2.0}}')

BAD_MODELS = '''
import torch

def raises():
    raise RuntimeError("weights not found")

def needs_args(width):
    return torch.nn.Linear(width, width)

def not_a_module():
    return 42

def identity():
    return torch.nn.Identity()
'''

SPECS = {
    "ok.toml": 'key = "ok"\nbandwidth_gbs = 900\n[peak_tflops]\nfp16 = 100\n',
    "zero.toml": 'key = "zero"\nbandwidth_gbs = 900\n[peak_tflops]\nfp16 = 0\n',
    "text.toml": 'key = "text"\nbandwidth_gbs = 900\n[peak_tflops]\nfp16 = "fast"\n',
    "nobw.toml": 'key = "nobw"\n[peak_tflops]\nfp16 = 100\n',
    "broken.toml": 'key = "broken\n',
    "eager-profile.json": PROFILE.format(runtime="eager"),
    "old-profile.json": ('{"name": "rtx4090", "runtime": "eager", "tensor_efficiency": 0.7, "vector_efficiency": 1.0, '
                         '"tensor_memory_efficiency": 0.35, "vector_memory_efficiency": 1.0, '
                         '"stream_memory_efficiency": 1.0, "overhead_us": 2.0}'),
    "onnx-profile.json": PROFILE.format(runtime="onnx"),
}
BINARY = {"binary.toml": bytes(range(128, 256))}

TABLES = {
    "energy.csv": "model,energy_efficiency\nnoscope-coral,1e9\nnoscope-taipei,2e9\n",
    "columns.csv": "name,joules\na,1\n",
    "negative.csv": "model,energy_efficiency,flops,weights,activations\n"
                    "a,-1,10,2,3\nb,2,20,3,4\nc,3,30,4,6\n",
    "zero_weights.csv": "model,energy_efficiency,flops,weights,activations\n"
                        "a,1,10,0,3\nb,2,20,3,4\nc,3,30,4,6\n",
    "constant.csv": "model,energy_efficiency,flops,weights,activations\n"
                    "a,5,10,2,3\nb,5,20,3,4\nc,5,30,4,6\n",
    "benchmark-infer-amp-nchw-pt291-cu128-4090.csv":
        "model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,infer_gmacs,"
        "infer_macts\nresnet18,224,fast,5.2,256,11.7,1.8,2.5\nresnet34,abc,-5,5.2,0,21.8,3.6,3.7\n",
}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-input")
    (tmp / "badmodels.py").write_text(textwrap.dedent(BAD_MODELS))
    for name, text in {**SPECS, **TABLES}.items():
        (tmp / name).write_text(text)
    for name, data in BINARY.items():
        (tmp / name).write_bytes(data)
    sys.path.insert(0, str(tmp))
    yield tmp
    sys.path.remove(str(tmp))


@pytest.mark.parametrize(("command", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(scratch, command, fragment):
    before = sorted(p.name for p in scratch.iterdir())
    result = runner.invoke(app, shlex.split(command.format(tmp=scratch)))
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [line for line in result.stderr.strip().splitlines()
             if not line.startswith(("warning:", "progress:"))]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0], lines[0]
    assert sorted(p.name for p in scratch.iterdir()) == before  # nothing written, nothing lost


def test_table_is_large():
    assert len(CASES) >= 60


def test_empty_out_is_refused_not_read_as_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["report", "noscope-coral", "--out", ""])
    assert result.exit_code == 2 and "is empty" in result.stderr and not list(tmp_path.iterdir())


def test_largest_batch_says_when_it_stopped_at_the_cap():
    result = runner.invoke(app, ["largest-batch", "noscope-coral", "--memory-gb", "1e30", "--limit", "64",
                                 "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["largest_batch"] == 64
    assert "search's cap" in result.stderr


def test_existing_out_file_survives_a_failed_run(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("earlier results")
    result = runner.invoke(app, ["analyze", "noscope-corl", "--format", "json", "--out", str(out)])
    assert result.exit_code == 2 and out.read_text() == "earlier results"


def test_report_into_an_existing_directory_keeps_its_files(tmp_path):
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    result = runner.invoke(app, ["report", "noscope-coral", "--out", str(tmp_path), "--device", "v100",
                                 "-b", "8"])
    assert result.exit_code == 0, result.output
    assert keep.read_text() == "mine" and (tmp_path / "report.html").is_file()
