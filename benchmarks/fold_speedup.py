"""Original vs folded (f = 2, 3, 4) specialized CNNs: predicted and measured speedup and utilization.

Predicted: waterline latency (seed 001 Eqn 12) on this machine's measured matmul peak and copy
bandwidth. Measured: images/s of the folded kernels at batch ceil(N / f) against the original at
batch N (the same images per step), and including fold/unfold. Peer: the original CNN, measured
in the same run. Seed 000's goal on a V100 with TensorRT (fp16): N1 f = 4 at least 2.5x; on a GPU
run with --on cuda --dtype fp16 --channels-last [--compile].

Run: .venv/bin/python benchmarks/fold_speedup.py [--quick] [--threads 1] [--batch 1024] [--on cpu]
     [--dtype fp32] [--device measured|calibrated[:FILE]]
Full runs write benchmarks/results/fold_speedup_cpu.txt; --quick (2 models, batch 64) prints only.
Threads default to 1: on this shared 2-core machine 2 threads stall whenever another process
takes a core. --device picks the prediction's device (a calibrated one predicts per-kernel times).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import header, load, write  # noqa: E402

from intensity.analysis.folding import predict_folding  # noqa: E402
from intensity.hardware import get_spec  # noqa: E402
from intensity.measure.folding import bench_folding  # noqa: E402
from intensity.models import resolve_model  # noqa: E402

MODELS = ["noscope-coral", "noscope-night", "noscope-roundabout", "noscope-taipei", "game-lol-gold1",
          "game-apex-count", "game-sot-coin", "game-sot-time"]
QUICK_MODELS = ["noscope-coral", "game-sot-time"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 models, batch 64, 2 iterations; print only")
    parser.add_argument("--batch", type=int, default=None, help="images per step (1024; quick 64)")
    parser.add_argument("--on", default="cpu")
    parser.add_argument("--dtype", default="fp32")
    parser.add_argument("--device", default="measured", help="device of the prediction")
    parser.add_argument("--iters", type=int, default=None, help="batches per trial (5; quick 2)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--models", default=None)
    args = parser.parse_args()
    batch, iters = args.batch or (64 if args.quick else 1024), args.iters or (2 if args.quick else 5)
    names = (args.models or ",".join(QUICK_MODELS if args.quick else MODELS)).split(",")
    console = Console(width=170, record=True)
    console.print(header(args.threads, "quick" if args.quick else "full"), markup=False)
    spec = get_spec(args.device, args.dtype, threads=args.threads)
    table = Table(title=f"folding: batch {batch}, {args.dtype} on {args.on}, {args.threads} thread(s) ({spec.name}; "
                        f"{spec.peak_tflops[args.dtype]:.3f} TFLOP/s, {spec.bandwidth_gbs:.1f} GB/s, {args.device})",
                  title_justify="left")
    for column in ("model", "f", "predicted speedup", "measured speedup", "with fold/unfold",
                   "utilization", "original images/s", "folded images/s", "spread"):
        table.add_column(column, justify="left" if column == "model" else "right")
    with console.status("measuring") as status:
        for name in names:
            status.update(f"measuring {name}")
            resolved = resolve_model(name)
            predicted = {p.f: p for p in predict_folding(name, [2, 3, 4], batch=batch, dtype=args.dtype,
                                                         device=spec)}
            measured = bench_folding(resolved.module, resolved.input_shape, [2, 3, 4], batch=batch,
                                     device=args.on, dtype=args.dtype, peak_flops=spec.peak_flops(args.dtype),
                                     iters=iters, trials=3, channels_last=args.channels_last,
                                     compile=args.compile, threads=args.threads)
            base = measured[0]
            for r in measured:
                guess = f"{predicted[r.f].speedup:.2f}x" if r.f in predicted else "1.00x"
                table.add_row(name, str(r.f), guess, f"{r.speedup:.2f}x", f"{r.speedup_with_reshape:.2f}x",
                              f"{r.utilization:.1%}", f"{base.images_per_s:,.0f}", f"{r.images_per_s:,.0f}",
                              f"{r.spread:.0%}" + (" busy" if r.busy else ""))
    console.print(table)
    console.print(f"peer: each model's f = 1 row, measured in the same run; load at end: {load()}", markup=False)
    path = write("fold_speedup_cpu.txt", console.export_text(), args.quick)
    if path:
        print(f"written to {path}")


if __name__ == "__main__":
    main()
