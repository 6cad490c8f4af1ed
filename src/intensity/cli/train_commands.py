"""Commands that make data and train: make-dataset, train, evaluate (seed 000 4.2, 5.1, 5.4, App. A)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from intensity.cli._app import FormatOpt, app, emit, guarded, nonempty_path, progress

DataOpt = Annotated[str, typer.Option(
    "--data", help="DIR (train/ val/ test/ image folders), generated:TASK, cifar10:DIR, cifar100:DIR "
                   "or video:VIDEO,CSV")]


@app.command("make-dataset")
def make_dataset(
    task: Annotated[str, typer.Argument(help="a game task, e.g. game-lol-gold1")],
    out: Annotated[Path, typer.Option(help="new (or empty) directory for train/ val/ test/ and manifest.json")],
    per_class: Annotated[int, typer.Option(help="training images per class", min=1)] = 1000,
    eval_per_class: Annotated[Optional[int], typer.Option(help="val and test images per class (default per_class/5)",
                                                          min=1)] = None,
    seed: Annotated[int, typer.Option(help="generator seed")] = 0,
) -> None:
    """Render a synthetic game-text dataset (App. A.1) as image folders at the model's resolution."""
    from intensity.data.folders import write_image_folder
    from intensity.data.game_text import game_splits
    from intensity.models import model_entry

    def run() -> dict:
        shape = model_entry(task).input_shape
        splits = game_splits(task, shape[1:], per_class, eval_per_class, seed)
        parts = {"train": splits.train, "val": splits.val, "test": splits.test}
        return write_image_folder(parts, out, {"task": task, "seed": seed, "size": list(shape[1:])})

    manifest = guarded(run)
    typer.echo(f"wrote {sum(sum(c.values()) for c in manifest['counts'].values())} images of "
               f"{len(manifest['classes'])} classes to {out}")


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="zoo model, e.g. game-lol-gold1 or noscope-coral")],
    data: DataOpt,
    out: Annotated[Path, typer.Option(help="run directory: last.pt and metrics.csv")],
    f: Annotated[int, typer.Option("-f", help="folding factor (1 = the original CNN)", min=1)] = 1,
    epochs: Annotated[int, typer.Option(min=1)] = 10,
    batch: Annotated[int, typer.Option("--batch", "-b", min=1)] = 32,
    preset: Annotated[str, typer.Option(help="fast (batch norm folded at export, block-diagonal init, AdamW 3e-3 "
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
    init: Annotated[Optional[str], typer.Option(help="default or block-diagonal (folded models)")] = None,
    schedule: Annotated[Optional[str], typer.Option(help="constant or cosine (per step)")] = None,
    warmup: Annotated[Optional[float], typer.Option(help="share of the run warming up the learning rate")] = None,
    label_smoothing: Annotated[Optional[float], typer.Option(help="default: the preset's")] = None,
) -> None:
    """Train an original (f = 1) or folded CNN; checkpoint every epoch, metrics.csv per epoch."""
    import torch

    from intensity.train.loop import TrainConfig, check_config, train as run_training

    config = TrainConfig(model, data, str(out), f, epochs, batch, preset, lr, seed, per_class, curriculum,
                         initial, delta, every, teacher, temperature, weight, resume, normalize,
                         optimizer=optimizer, weight_decay=weight_decay, batch_norm=batch_norm, init=init,
                         schedule=schedule, warmup=warmup, label_smoothing=label_smoothing)
    guarded(lambda: check_config(config))  # before the progress bar: a bad number is one clean line
    if threads is not None:
        torch.set_num_threads(threads)
    with progress(f"training {model} f={f}") as report:
        result = guarded(lambda: run_training(config, report))
    for row in result.metrics:
        typer.echo(f"epoch {row['epoch']}: loss {row['loss']:.4f}  train {row['train_acc']:.1%}  "
                   f"val {row['val_acc']:.1%}  {row['images_per_s']:.0f} images/s")
    typer.echo(f"test top-1 {result.test_acc:.2%}; checkpoint {out / 'last.pt'}")


@app.command()
def evaluate(
    runs: Annotated[list[str], typer.Argument(help="run directories or checkpoints (original and folded)")],
    data: DataOpt,
    batch: Annotated[int, typer.Option("--batch", "-b", min=1)] = 256,
    orders: Annotated[int, typer.Option(help="image orders sampled for order sensitivity", min=1)] = 24,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Top-1 of each model on the same test images, per class, and order sensitivity (5.3)."""
    from intensity.train.evaluate import evaluate_checkpoints

    records = guarded(lambda: evaluate_checkpoints(runs, data, batch, orders))

    def tables() -> list:
        from rich.table import Table

        table = Table("checkpoint", "model", "f", "images", "top-1", "order-stable", title="evaluation")
        for r in records:
            stable = "-" if r["order_stable"] is None else f"{r['order_stable']:.1%}"
            table.add_row(r["checkpoint"], r["model"], str(r["f"]), str(r["images"]), f"{r['top1']:.2%}", stable)
        return [table]

    emit(format, records, tables)


@app.command("comm-model")
def comm_model_command(
    model: Annotated[str, typer.Argument(help="zoo, torchvision:NAME or timm:NAME model")],
    workers: Annotated[str, typer.Option(help="worker counts, comma-separated")] = "1,2,4,8,16,32,64,128",
    bandwidth_gbs: Annotated[float, typer.Option(help="per-node send/receive bandwidth, GB/s")] = 7.0,
    dtype: Annotated[str, typer.Option(help="gradient dtype: fp32, fp16, bf16")] = "fp32",
    device: Annotated[str, typer.Option(help="accelerator spec for the compute time (waterline)")] = "v100",
    batch: Annotated[int, typer.Option("--batch", "-b", help="images per worker per step", min=1)] = 32,
    plot: Annotated[Optional[str], typer.Option(help="directory for comm_model.png/.svg", callback=nonempty_path)] = None,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Per-step gradient communication: parameter server (Eqn 3.3), reduction tree (3.4), ring."""
    from intensity.analysis.comm import comm_model
    from intensity.cli._app import check_out_dir, numbers

    if plot is not None:
        guarded(lambda: check_out_dir(plot, "--plot"))
    counts = guarded(lambda: numbers(workers, int, "--workers", "1,2,4,8"))
    size, compute, rows = guarded(lambda: comm_model(model, counts, bandwidth_gbs, dtype=dtype, device=device,
                                                     batch=batch))
    records = [{"workers": r.workers, "strategy": r.strategy, "comm_ms": r.comm_s * 1e3,
                "compute_ms": r.compute_s * 1e3, "efficiency": r.efficiency} for r in rows]

    def tables() -> list:
        from rich.table import Table

        table = Table("workers", "strategy", "comm ms", "compute ms", "efficiency",
                      title=f"{model}: {size / 1e6:.2f} MB gradients ({dtype}), {bandwidth_gbs} GB/s, {device}")
        for r in records:
            table.add_row(str(r["workers"]), r["strategy"], f"{r['comm_ms']:.3f}", f"{r['compute_ms']:.3f}",
                          f"{r['efficiency']:.1%}")
        return [table]

    emit(format, records, tables)
    if plot is not None:
        from intensity.report.plots import comm_figure, save

        typer.echo(f"plot: {save(comm_figure(records, model), plot, 'comm_model')['png']}")
