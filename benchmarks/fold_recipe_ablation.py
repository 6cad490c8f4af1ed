"""Ablation of the training recipe on V1 (seed 000's game-lol-gold1): which ingredient makes
folded CNNs converge within a CPU budget (issue 17). Each candidate is a set of TrainConfig
overrides; all share the budget (--epochs epochs of --per-class images per class, batch 32) and
run --workers at a time, one thread each. Every row: test top-1 of the folded model beside the
original (f = 1, `fast`) of the same budget, the drop, the last epoch's train loss (label
smoothing 0.1 raises its floor to ~0.5), wall time, threads and the load while it ran.

    PYTHONPATH=src python benchmarks/fold_recipe_ablation.py                     # all candidates, f = 4
    PYTHONPATH=src python benchmarks/fold_recipe_ablation.py --only fast --fs 2,3
    PYTHONPATH=src python benchmarks/fold_recipe_ablation.py --from-log runs.jsonl  # table of finished runs
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import header, write  # noqa: E402

from intensity.train.loop import TrainConfig, train  # noqa: E402

SEEDLIKE = {"preset": "game", "curriculum": False}
CANDIDATES = {  # name: (overrides, what it tests)
    "base": ({**SEEDLIKE, "lr": 3e-4}, "the older table's recipe: Adam 3e-4 constant, no curriculum"),
    "bn": ({**SEEDLIKE, "batch_norm": True, "lr": 1e-3}, "+ train-time batch norm, Adam 1e-3"),
    "bd": ({**SEEDLIKE, "init": "block-diagonal", "lr": 3e-4}, "+ block-diagonal init only"),
    "sched": ({**SEEDLIKE, "schedule": "cosine", "warmup": 0.05, "lr": 1e-3}, "+ warm-up/cosine, Adam 1e-3"),
    "fast": ({}, "fast: BN + separate image paths + AdamW 3e-3 warm-up/cosine + label smoothing 0.1"),
    "fast_shared": ({"init": "block-diagonal"}, "fast with shared paths (block-diagonal init only): the 11:44 run's fast"),
    "fast_nobd": ({"init": "default"}, "fast without block-diagonal init"),
    "fast_nobn": ({"batch_norm": False, "lr": 1e-3}, "fast without batch norm (lr 1e-3)"),
    "fast_nols": ({"label_smoothing": 0.0}, "fast without label smoothing"),
    "fast_lr1e-2": ({"lr": 1e-2}, "fast at lr 1e-2"),
    "fast_distill": ({"teacher": "ORIGINAL", "weight": 0.7}, "fast + distillation from the f = 1 run (T 4, w 0.7)"),
}


def _run(name: str, overrides: dict, f: int, args: argparse.Namespace, work: str) -> dict:
    torch.set_num_threads(1)
    config = TrainConfig("game-lol-gold1", "generated:game-lol-gold1", f"{work}/{name}-f{f}", f=f,
                         epochs=args.epochs, batch=32, per_class=args.per_class, **overrides)
    start, load = time.perf_counter(), os.getloadavg()[0]
    result = train(config)
    return {"name": name, "f": f, "epochs": args.epochs, "top1": result.test_acc, "train_loss": result.metrics[-1]["loss"],
            "seconds": time.perf_counter() - start, "threads": 1, "load": [load, os.getloadavg()[0]]}


def table(rows: list[dict]) -> str:
    original = next((r["top1"] for r in rows if r["name"] in ("fast", "fast_f1") and r["f"] == 1), None)
    lines = [f"{'candidate':<14} {'f':>2} {'epochs':>6} {'original':>9} {'folded':>8} {'drop':>7} {'train loss':>10} "
             f"{'wall s':>7} {'threads':>7} {'load (start/end)':>17}  what"]
    for r in sorted(rows, key=lambda r: (r["f"], r["name"])):
        name = r["name"].removesuffix(f"_f{r['f']}")
        drop = "" if original is None or r["f"] == 1 else f"{(r['top1'] - original) * 100:+.2f}"
        lines.append(f"{name:<14} {r['f']:>2} {r['epochs']:>6} {original or 0:>9.2%} {r['top1']:>8.2%} {drop:>7} "
                     f"{r['train_loss']:>10.3f} {r['seconds']:>7.0f} {r['threads']:>7} "
                     f"{r['load'][0]:>8.1f}/{r['load'][1]:<8.1f}  {CANDIDATES.get(name, ('', ''))[1]}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--fs", default="4", help="folding factors of the candidates (f = 1 fast always runs)")
    parser.add_argument("--only", default=None, help="comma-separated candidate names")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--from-log", default=None, help="JSON lines of finished runs: only draw the table")
    parser.add_argument("--results", default="fold_recipe_ablation_cpu.txt")
    parser.add_argument("--quick", action="store_true",
                        help="1 epoch, 4 images/class, the fast candidate at f = 2 only; prints, writes nothing (CI)")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.per_class, args.fs, args.only, args.workers = 1, 4, "2", "fast", 1
    if args.from_log:
        rows = [json.loads(line) for line in open(args.from_log)]
        print(table(rows))
        return
    names = args.only.split(",") if args.only else list(CANDIDATES)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        rows.append(_run("fast", {}, 1, args, work))  # the original: also the distillation teacher
        jobs = [(n, {k: (f"{work}/fast-f1/last.pt" if v == "ORIGINAL" else v) for k, v in CANDIDATES[n][0].items()}, f)
                for n in names for f in map(int, args.fs.split(","))]
        with ProcessPoolExecutor(args.workers) as pool:
            for future in as_completed([pool.submit(_run, n, o, f, args, work) for n, o, f in jobs]):
                rows.append(future.result())
                print(json.dumps(rows[-1]), flush=True)
    text = header(1, "quick" if args.quick else "full") + table(rows)
    print(text)
    write(args.results, text, args.quick)


if __name__ == "__main__":
    main()
