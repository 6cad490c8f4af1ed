"""Accuracy of folded vs original CNNs after training on this CPU (seed 000 Table 4 layout).

Trains each model as the original (f = 1) and folded (f = 2, 3, 4) on generated data (V1-V4:
game text; a NoScope CNN: a generated synthetic video), evaluates all on the same test images, and
measures the folded speedup with bench_folding (fixed threads, median of trials, spread shown).
The peer of every row is the original model trained in the same run with the same budget.

    PYTHONPATH=src python benchmarks/fold_accuracy.py --quick     # V1, f = 1, 2; seconds
    PYTHONPATH=src python benchmarks/fold_accuracy.py --epochs 20 --per-class 200
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from rich.console import Console
from rich.table import Table

from intensity.measure.folding import bench_folding
from intensity.models import resolve_model
from intensity.train.loop import TrainConfig, train

GAME = ["game-lol-gold1", "game-apex-count", "game-sot-coin", "game-sot-time"]


def _noscope_data(directory: str, frames: int) -> str:
    from intensity.data.video import write_synthetic_video

    write_synthetic_video(f"{directory}/v.mp4", f"{directory}/v.csv", frames, (50, 50))
    return f"video:{directory}/v.mp4,{directory}/v.csv"


def _accuracy(name: str, data: str, f: int, args: argparse.Namespace, work: str, preset: str) -> float:
    config = TrainConfig(name, data, f"{work}/{name}-f{f}", f=f, epochs=args.epochs, batch=args.batch,
                         preset=preset, lr=args.lr, per_class=args.per_class, every=max(1, args.epochs // 4))
    return train(config).test_acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="V1 only, f = 1, 2, one epoch, 10 images per class")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3, help="above the seed's 1e-4: a CPU-sized budget")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=1600, help="synthetic NoScope video length")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models, fs = (["game-lol-gold1"], [1, 2]) if args.quick else (GAME + ["noscope-coral"], [1, 2, 3, 4])
    if args.quick:
        args.epochs, args.per_class = 1, 10
    table = Table(title=f"fold accuracy: {args.epochs} epochs, {args.per_class}/class, batch {args.batch}, "
                        f"lr {args.lr}, {args.threads} threads, load {os.getloadavg()[0]:.2f}", title_justify="left")
    for column in ("model", "f", "top-1", "difference vs f=1 (points)", "measured speedup", "spread", "train s"):
        table.add_column(column, justify="left" if column == "model" else "right")
    with tempfile.TemporaryDirectory() as work:
        for name in models:
            preset = "noscope" if name.startswith("noscope") else "game"
            data = _noscope_data(work, args.frames) if preset == "noscope" else f"generated:{name}"
            resolved = resolve_model(name)
            speed = {b.f: b for b in bench_folding(resolved.module, tuple(resolved.input_shape), fs, batch=256,
                                                   peak_flops=1e12, iters=5, trials=3, threads=args.threads)}
            base = None
            for f in fs:
                start = time.perf_counter()
                top1 = _accuracy(name, data, f, args, work, preset)
                base = top1 if base is None else base
                table.add_row(name, str(f), f"{top1:.2%}", f"{(top1 - base) * 100:+.2f}", f"{speed[f].speedup:.2f}x",
                              f"{speed[f].spread:.0%}", f"{time.perf_counter() - start:.0f}")
    Console(width=140).print(table)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
