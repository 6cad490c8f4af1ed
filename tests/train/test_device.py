"""The trainer's device plumbing, run on the CPU: placement, its errors, the loader, DDP's backend
choice, checkpoints and the CLI's --device/--amp/--loader-workers; a gpu-marked run on CUDA."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from intensity.cli import app
from intensity.hardware.backends import BACKENDS, Backend, Device
from intensity.train.checkpoint import load_checkpoint
from intensity.train.ddp import process_group_backend
from intensity.train.device import Placement, loader, model_placement, placement, to_device
from intensity.train.evaluate import evaluate_checkpoints
from intensity.train.loop import TrainConfig, train

NO_CUDA = not torch.cuda.is_available()
DATA = "generated:game-lol-gold1"


def _config(tmp_path, name="run", **kw):
    base = dict(model="game-lol-gold1", data=DATA, out=str(tmp_path / name), f=2, epochs=1, batch=16,
                per_class=3, lr=1e-3, device="cpu")
    return TrainConfig(**{**base, **kw})


def test_cpu_placement_is_fp32_without_pinning_or_channels_last():
    place = placement("cpu")
    assert str(place.device) == "cpu" and place.amp_dtype is None
    assert not place.pin_memory and not place.channels_last
    assert place.describe().startswith("cpu (") and "fp32" in place.describe()


@pytest.mark.skipif(not NO_CUDA, reason="checks the errors given without a GPU")
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"device": "cuda"}, r"`device` cuda: no CUDA device is visible .*; use --device cpu"),
    ({"device": "tpu"}, r"unknown `device` 'tpu'"),
    ({"device": "cpu", "amp": "bf16"}, r"`amp` bf16 on cpu: mixed precision .*use --device cuda"),
    ({"device": "cpu", "amp": "fp8"}, r"unknown `amp` 'fp8'"),
    ({"device": "cpu", "loader_workers": -1}, r"`loader_workers` must be 0"),
])
def test_bad_placements_are_one_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        placement(**kwargs)
    with pytest.raises(ValueError, match=message):  # train refuses before loading any data
        train(TrainConfig("game-lol-gold1", DATA, "/nonexistent/never-written", **kwargs))


def test_under_torchrun_each_rank_takes_the_device_of_its_local_rank(twin_backend, monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert placement("twin", world=2).device.torch_device == torch.device("meta", 1)
    assert placement("twin", world=1).device.torch_device.index == 0  # one process: the current device
    assert str(placement("cpu", world=2).device) == "cpu"  # every CPU rank shares the CPU
    with pytest.raises(ValueError, match=r"under torchrun each rank uses its own GPU, cuda:LOCAL_RANK"):
        placement("twin:0", world=2)


def test_the_process_group_backend_follows_the_device_used():
    assert process_group_backend(placement("cpu")) == "gloo"
    gpu = Placement(Device(BACKENDS["cuda"], torch.device("cuda", 0)))  # constructed, never run
    assert process_group_backend(gpu) == "nccl"


def test_the_loader_keeps_the_callers_order_and_moves_batches():
    data = torch.utils.data.TensorDataset(torch.arange(10.0).view(10, 1), torch.arange(10))
    place = placement("cpu")
    batches = [to_device(place, x, y) for x, y in loader(data, [3, 1, 4, 0, 5], 2, place)]
    assert [y.tolist() for _, y in batches] == [[3, 1], [4, 0], [5]]
    assert all(x.device.type == "cpu" for x, _ in batches)
    assert str(model_placement(nn.Linear(2, 2)).device) == "cpu"


def test_loader_workers_train_exactly_as_the_main_process(tmp_path):
    # the same order and the same images: worker processes change where images load, not what
    one = train(_config(tmp_path, "main"))
    two = train(_config(tmp_path, "workers", loader_workers=2))
    assert one.metrics[0]["loss"] == two.metrics[0]["loss"] and one.test_acc == two.test_acc
    assert one.device == "cpu"


def test_checkpoints_record_the_device_and_load_on_the_cpu(tmp_path):
    train(_config(tmp_path))
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert state["config"]["device"] == "cpu" and state["config"]["amp"] is None
    assert all(t.device.type == "cpu" for t in state["model"].values())
    record = evaluate_checkpoints([str(tmp_path / "run")], DATA, device="cpu")[0]
    assert record["device"] == "cpu" and 0 <= record["top1"] <= 1


def test_on_cpu_keeps_the_structure_of_a_checkpoint():
    from intensity.train.checkpoint import on_cpu

    tree = {"a": [torch.ones(2), (3, "x")], "b": {"c": torch.zeros(1)}, "d": None}
    moved = on_cpu(tree)
    assert moved["a"][1] == (3, "x") and isinstance(moved["a"][1], tuple) and moved["d"] is None
    assert torch.equal(moved["a"][0], torch.ones(2)) and moved["b"]["c"].device.type == "cpu"


def test_cli_says_the_device_first_and_refuses_what_cannot_run(tmp_path):
    ok = CliRunner().invoke(app, ["train", "game-lol-gold1", "--data", DATA, "--per-class", "3", "--epochs", "1",
                                  "--batch", "16", "--out", str(tmp_path / "run"), "--device", "cpu",
                                  "--loader-workers", "1"])
    assert ok.exit_code == 0, ok.output
    first = ok.output.splitlines()[0]
    assert first.startswith("device: cpu (") and "1 loader worker(s)" in first
    amp = CliRunner().invoke(app, ["train", "game-lol-gold1", "--data", DATA, "--out", str(tmp_path / "amp"),
                                   "--device", "cpu", "--amp", "bf16"])
    assert amp.exit_code == 2 and "error: --amp bf16 on cpu: mixed precision" in amp.output
    assert "Traceback" not in amp.output and not (tmp_path / "amp").exists()
    evaluated = CliRunner().invoke(app, ["evaluate", str(tmp_path / "run"), "--data", DATA, "--device", "cpu"])
    assert evaluated.exit_code == 0 and evaluated.output.startswith("device: cpu (")


@pytest.mark.skipif(not NO_CUDA, reason="checks the error given without a GPU")
def test_cli_cuda_without_a_gpu_is_one_line(tmp_path):
    result = CliRunner().invoke(app, ["train", "game-lol-gold1", "--data", DATA, "--out", str(tmp_path / "run"),
                                      "--device", "cuda"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "error: --device cuda: no CUDA device is visible" in result.output and "use --device cpu" in result.output


@pytest.mark.gpu
@pytest.mark.parametrize("amp", [None, "bf16", "fp16"])
def test_two_epochs_on_cuda_raise_accuracy(tmp_path, amp):
    result = train(_config(tmp_path, f=1, epochs=2, per_class=40, batch=32, device="cuda", amp=amp))
    first, last = result.metrics
    assert result.device.startswith("cuda") and next(result.model.parameters()).is_cuda
    assert last["train_acc"] > first["train_acc"] and last["loss"] < first["loss"]
    assert last["val_acc"] > 1 / 11  # above chance for V1's 11 classes
    # a GPU run's checkpoint holds CPU tensors: even a plain torch.load (no map_location) gives CPU ones
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert all(t.device.type == "cpu" for t in state["model"].values())


def test_torchrun_entry_point_takes_the_device_options():
    from intensity.train.__main__ import _parser

    args = _parser().parse_args(["game-lol-gold1", "--data", DATA, "--out", "x", "--device", "cuda", "--amp", "bf16",
                                 "--loader-workers", "2"])
    config = TrainConfig(**vars(args))
    assert (config.device, config.amp, config.loader_workers) == ("cuda", "bf16", 2)
    assert TrainConfig(**vars(_parser().parse_args(["m", "--data", DATA, "--out", "x"]))).device is None


def test_torchrun_entry_point_says_the_device_first_and_refuses_amp_on_the_cpu(tmp_path, capsys):
    from intensity.train.__main__ import main

    assert main(["game-lol-gold1", "--data", DATA, "--out", str(tmp_path / "run"), "--device", "cpu",
                 "--amp", "fp16"]) == 2
    assert "error: `amp` fp16 on cpu: mixed precision" in capsys.readouterr().err
    assert main(["game-lol-gold1", "--data", DATA, "--out", str(tmp_path / "run"), "--device", "cpu",
                 "--per-class", "2", "--epochs", "1", "--batch", "11"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("device: cpu (") and out[-1].startswith("test top-1")
