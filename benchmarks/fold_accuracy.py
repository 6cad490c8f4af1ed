"""Accuracy of folded vs original CNNs after training on this CPU (seed 000 Table 4 layout).

Trains V1-V4 (generated game text) and one NoScope CNN (a generated synthetic video) as the
original (f = 1) and folded (f = 2, 3, 4), evaluates each on its task's same test images, and
measures the folded speedup with bench_folding (fixed threads, median of trials, spread shown)
before any training starts, so the timings run on a quiet machine. The peer of every row is the
original model trained in the same run with the same budget and hyperparameters.

Budget (a CPU stand-in for the seed's 1500 epochs at batch 32 on game tasks, 50 at batch 128 on
NoScope): game models --epochs epochs of --per-class images per class, Adam at --lr (the seed's
1e-4 barely moves folded models in this budget; 1e-3 kills folded f = 4 V1's ReLUs in the first
steps), weight decay 1e-5; NoScope its preset (RMSprop 6.6e-4, dropout) for --noscope-epochs at
batch 128. Inputs are normalized per channel (the trainer's default). Curriculum is off unless
--curriculum: the seed's E = 60 epochs per stage would never pass its first stage here.
Runs go --workers at a time, one thread each.

    PYTHONPATH=src python benchmarks/fold_accuracy.py --quick      # V1, f = 1, 2; under a minute
    PYTHONPATH=src python benchmarks/fold_accuracy.py              # the full table; ~38 min here
    PYTHONPATH=src python benchmarks/fold_accuracy.py --models game-lol-gold1 --fs 2,4 --epochs 240 \
        --results fold_accuracy_v1_240ep_cpu.txt                     # does a longer budget close the gap?
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import header, load, write  # noqa: E402

from intensity.measure.folding import bench_folding  # noqa: E402
from intensity.models import resolve_model  # noqa: E402
from intensity.train.loop import TrainConfig, train  # noqa: E402

GAME = ["game-lol-gold1", "game-apex-count", "game-sot-coin", "game-sot-time"]
NOSCOPE = "noscope-coral"


def _noscope_data(directory: str, frames: int) -> str:
    from intensity.data.video import write_synthetic_video

    write_synthetic_video(f"{directory}/v.mp4", f"{directory}/v.csv", frames, (50, 50))
    return f"video:{directory}/v.mp4,{directory}/v.csv"


def _config(name: str, data: str, f: int, args: argparse.Namespace, work: str) -> TrainConfig:
    if name.startswith("noscope"):
        return TrainConfig(name, data, f"{work}/{name}-f{f}", f=f, epochs=args.noscope_epochs, batch=128,
                           preset="noscope")
    return TrainConfig(name, data, f"{work}/{name}-f{f}", f=f, epochs=args.epochs, batch=args.batch, preset="game",
                       lr=args.lr, per_class=args.per_class, curriculum=args.curriculum and f > 1,
                       every=max(1, args.epochs * 60 // 1500))


def _train_one(config: TrainConfig) -> dict:
    """One run in a worker process: one thread, so two workers share the two cores fairly."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    result = train(config)
    last = result.metrics[-1]
    return {"model": config.model, "f": config.f, "top1": result.test_acc, "best_val": max(m["val_acc"] for m in
            result.metrics), "train_loss": last["loss"], "seconds": time.perf_counter() - start}


def _speedups(names: list[str], fs: list[int], threads: int, console: Console) -> dict:
    speed = {}
    with console.status("measuring folded speedups (before training, on a quiet machine)") as status:
        for name in names:
            status.update(f"measuring {name} folded f = {', '.join(map(str, fs))}")
            resolved = resolve_model(name)
            for b in bench_folding(resolved.module, tuple(resolved.input_shape), fs, batch=256, peak_flops=1e12,
                                   iters=5, trials=3, threads=threads):
                speed[name, b.f] = b
    return speed


def _table(rows: list[dict], speed: dict, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("model", "f", "test top-1", "vs f=1 (points)", "best val", "last train loss", "measured speedup",
                   "spread", "train s"):
        table.add_column(column, justify="left" if column == "model" else "right")
    base = {r["model"]: r["top1"] for r in rows if r["f"] == 1}
    for r in sorted(rows, key=lambda r: (r["model"], r["f"])):
        b = speed[r["model"], r["f"]]
        table.add_row(r["model"], str(r["f"]), f"{r['top1']:.2%}", f"{(r['top1'] - base[r['model']]) * 100:+.2f}",
                      f"{r['best_val']:.2%}", f"{r['train_loss']:.3f}", f"{b.speedup:.2f}x",
                      f"{b.spread:.0%}" + (" busy" if b.busy else ""), f"{r['seconds']:.0f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="V1 only, f = 1, 2, 2 epochs, 20 images per class")
    parser.add_argument("--epochs", type=int, default=60, help="game models")
    parser.add_argument("--noscope-epochs", type=int, default=50)
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--batch", type=int, default=16, help="game models (NoScope: 128, the seed's)")
    parser.add_argument("--lr", type=float, default=3e-4, help="game models (Adam)")
    parser.add_argument("--curriculum", action="store_true", help="folded game models (E scaled to the budget)")
    parser.add_argument("--workers", type=int, default=2, help="training runs at a time (one thread each)")
    parser.add_argument("--threads", type=int, default=1, help="for the speedup timing")
    parser.add_argument("--frames", type=int, default=1600, help="synthetic NoScope video length")
    parser.add_argument("--models", default=None, help="comma-separated subset of the five")
    parser.add_argument("--fs", default=None, help="folding factors, comma-separated (1,2,3,4; quick 1,2)")
    parser.add_argument("--results", default="fold_accuracy_cpu.txt", help="file name under benchmarks/results/")
    args = parser.parse_args()
    models, fs = (["game-lol-gold1"], [1, 2]) if args.quick else (GAME + [NOSCOPE], [1, 2, 3, 4])
    models = args.models.split(",") if args.models else models
    fs = sorted({1, *map(int, args.fs.split(","))}) if args.fs else fs
    if args.quick:
        args.epochs, args.per_class = 2, 20
    console = Console(width=150, record=True)
    console.print(header(args.threads, "quick" if args.quick else "full"), markup=False)
    speed = _speedups(models, fs, args.threads, console)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        data = {name: _noscope_data(work, args.frames) if name.startswith("noscope") else f"generated:{name}"
                for name in models}
        configs = [_config(name, data[name], f, args, work) for name in models for f in fs]
        with Progress(console=console, transient=True) as bar, ProcessPoolExecutor(args.workers) as pool:
            task = bar.add_task(f"training {len(configs)} runs, {args.workers} at a time", total=len(configs))
            for future in as_completed([pool.submit(_train_one, c) for c in configs]):
                row = future.result()
                rows.append(row)
                bar.advance(task)
                console.print(f"{row['model']} f={row['f']}: test top-1 {row['top1']:.2%} ({row['seconds']:.0f} s)")
    title = (f"fold accuracy: game {args.epochs} epochs x {args.per_class}/class, batch {args.batch}, Adam lr {args.lr}"
             f"{', curriculum' if args.curriculum else ''}; NoScope {args.noscope_epochs} epochs, batch 128, RMSprop "
             f"6.6e-4; speedup at batch 256, {args.threads} thread(s)")
    console.print(_table(rows, speed, title))
    console.print(f"peer: each model's f = 1 row, trained and timed in the same run; load at end: {load()}",
                  markup=False)
    path = write(args.results, console.export_text(), args.quick)
    if path:
        console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
