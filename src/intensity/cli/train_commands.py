"""Commands that make data and train: make-dataset, train, evaluate (seed 000 4.2, 5.1, 5.4, App. A)
and comm-model (seed 002 ch. 3).

Declarations only: each command builds a request, calls one operation (intensity.ops.train) and
emits its result. make-dataset and train write their directory (--out) under a lock and print
their summary in --format.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from intensity.cli._app import (
    DeviceOpt, DtypeOpt, FormatOpt, OutOpt, app, call, check_out, emit, guarded, nonempty_path, numbers,
)
from intensity.ops import ModelRequest
from intensity.ops import train as ops

DataOpt = Annotated[str, typer.Option(
    "--data", help="DIR (train/ val/ test/ image folders), generated:TASK, cifar10:DIR, cifar100:DIR "
                   "or video:VIDEO,CSV")]
TrainDeviceOpt = Annotated[Optional[str], typer.Option(
    "--device", help="cpu, cuda or cuda:N (default: the GPU when present, else the CPU)")]
AmpOpt = Annotated[Optional[str], typer.Option(
    "--amp", help="mixed precision on a GPU: bf16 or fp16 (default: fp32)")]
LoaderWorkersOpt = Annotated[int, typer.Option(
    "--loader-workers", help="DataLoader worker processes (0: load in the main process)", min=0)]


@app.command("make-dataset")
def make_dataset(
    task: Annotated[str, typer.Argument(help="a game task, e.g. game-lol-gold1")],
    out: Annotated[Path, typer.Option(help="new (or empty) directory for train/ val/ test/ and manifest.json")],
    per_class: Annotated[int, typer.Option(help="training images per class", min=1)] = 1000,
    eval_per_class: Annotated[Optional[int], typer.Option(help="val and test images per class (default per_class/5)",
                                                          min=1)] = None,
    seed: Annotated[int, typer.Option(help="generator seed")] = 0,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Render a synthetic game-text dataset (App. A.1) as image folders at the model's resolution."""
    emit(call(f"make-dataset {task}", ops.run_make_dataset, task, out, per_class, eval_per_class, seed), format)


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="zoo model, e.g. game-lol-gold1 or noscope-coral")],
    data: DataOpt,
    out: Annotated[Path, typer.Option(help="run directory: last.pt and metrics.csv (locked while training)")],
    f: Annotated[int, typer.Option("-f", help="folding factor (1 = the original CNN)", min=1)] = 1,
    epochs: Annotated[int, typer.Option(min=1)] = 10,
    batch: Annotated[int, typer.Option("--batch", "-b", min=1)] = 32,
    preset: Annotated[str, typer.Option(help="fast (batch norm folded at export, separate image paths, AdamW 3e-3 "
                                             "warm-up + cosine, label smoothing 0.1), seed (the seed's recipe for "
                                             "the model's family), or game/cifar (Adam 1e-4), noscope (RMSprop "
                                             "6.6e-4, dropout)")] = "fast",
    lr: Annotated[Optional[float], typer.Option(help="learning rate (default: the preset's)")] = None,
    seed: int = 0,
    per_class: Annotated[int, typer.Option(help="images per class for generated: data", min=1)] = 200,
    curriculum: Annotated[Optional[bool], typer.Option(help="curriculum (default: folded game models)")] = None,
    initial: Annotated[Optional[int], typer.Option(help="curriculum I")] = None,
    delta: Annotated[Optional[int], typer.Option(help="curriculum Delta")] = None,
    every: Annotated[Optional[int], typer.Option(help="curriculum E in epochs (default: the preset's; seed 60, "
                                                      "fast 4% of --epochs)", min=1)] = None,
    teacher: Annotated[Optional[str], typer.Option(help="an original model's last.pt to distill from")] = None,
    temperature: float = 4.0,
    weight: Annotated[float, typer.Option(help="share of the distillation term")] = 0.9,
    resume: Annotated[bool, typer.Option(help="continue the run in --out")] = False,
    normalize: Annotated[bool, typer.Option(help="per-channel mean/std of the training images")] = True,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads (default: torch's setting)", min=1)] = None,
    optimizer: Annotated[Optional[str], typer.Option(help="adam, adamw, rmsprop or sgd (default: the preset's)")] = None,
    weight_decay: Annotated[Optional[float], typer.Option(help="default: the preset's")] = None,
    batch_norm: Annotated[Optional[bool], typer.Option(help="train-time batch norms (folded at export)")] = None,
    init: Annotated[Optional[str], typer.Option(
        help="folded models: separate (f independent narrow CNNs, the weights between images' paths held at zero), "
             "block-diagonal (starts so, then trains them), or default (PyTorch's init)")] = None,
    schedule: Annotated[Optional[str], typer.Option(help="constant or cosine (per step)")] = None,
    warmup: Annotated[Optional[float], typer.Option(help="share of the run warming up the learning rate")] = None,
    label_smoothing: Annotated[Optional[float], typer.Option(help="default: the preset's")] = None,
    device: TrainDeviceOpt = None,
    amp: AmpOpt = None,
    loader_workers: LoaderWorkersOpt = 0,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Train an original (f = 1) or folded CNN; checkpoint every epoch, metrics.csv per epoch."""
    from intensity.train.loop import TrainConfig

    config = TrainConfig(model, data, str(out), f, epochs, batch, preset, lr, seed, per_class, curriculum,
                         initial, delta, every, teacher, temperature, weight, resume, normalize,
                         device=device, amp=amp, loader_workers=loader_workers,
                         optimizer=optimizer, weight_decay=weight_decay, batch_norm=batch_norm, init=init,
                         schedule=schedule, warmup=warmup, label_smoothing=label_smoothing)
    emit(call(f"training {model} f={f}", ops.run_train, config, threads), format)


@app.command()
def evaluate(
    runs: Annotated[list[str], typer.Argument(help="run directories or checkpoints (original and folded)")],
    data: DataOpt,
    batch: Annotated[int, typer.Option("--batch", "-b", min=1)] = 256,
    orders: Annotated[int, typer.Option(help="image orders sampled for order sensitivity", min=1)] = 24,
    format: FormatOpt = "table",  # noqa: A002
    device: TrainDeviceOpt = None,
    amp: AmpOpt = None,
    loader_workers: LoaderWorkersOpt = 0,
    out: OutOpt = None,
) -> None:
    """Top-1 of each model on the same test images, per class, and order sensitivity (5.3)."""
    inputs = [*runs, *ops.data_files(data)]
    out = check_out(out, inputs)
    emit(guarded(lambda: ops.run_evaluate(runs, data, batch, orders, device=device, amp=amp,
                                          loader_workers=loader_workers)), format, out, inputs=inputs)


@app.command("comm-model")
def comm_model_command(
    model: Annotated[str, typer.Argument(help="zoo, torchvision:NAME or timm:NAME model")],
    workers: Annotated[str, typer.Option(help="worker counts, comma-separated")] = "1,2,4,8,16,32,64,128",
    bandwidth_gbs: Annotated[float, typer.Option(help="per-node send/receive bandwidth, GB/s")] = 7.0,
    dtype: DtypeOpt = None,
    device: DeviceOpt = None,
    batch: Annotated[int, typer.Option("--batch", "-b", help="images per worker per step", min=1)] = 32,
    plot: Annotated[Optional[str], typer.Option(help="directory for comm_model.png/.svg", callback=nonempty_path)] = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Per-step gradient communication: parameter server (Eqn 3.3), reduction tree (3.4), ring.
    --dtype is the gradients' dtype, --device the spec for the compute time (waterline)."""
    request = guarded(lambda: ops.CommRequest(ModelRequest(model, batch, dtype=dtype, device=device),
                                              tuple(numbers(workers, int, "--workers", "1,2,4,8")), bandwidth_gbs,
                                              plot))
    out = check_out(out, request.model.input_files())
    emit(call(f"comm-model {model}", ops.run_comm_model, request), format, out, inputs=request.model.input_files())
