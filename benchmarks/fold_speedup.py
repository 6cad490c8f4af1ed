"""Original vs folded (f = 2, 3, 4) specialized CNNs: predicted and measured speedup and utilization.

Predicted: waterline latency (seed 001 Eqn 12) on this machine's measured matmul peak and copy
bandwidth. Measured: images/s of the folded kernels at batch ceil(N / f) against the original at
batch N (the same images per step), and including fold/unfold. Peer: the original CNN, measured
in the same run. Seed 000's goal on a V100 with TensorRT (fp16): N1 f = 4 at least 2.5x; on a GPU
run with --on cuda --dtype fp16 --channels-last [--compile].

Run: .venv/bin/python benchmarks/fold_speedup.py [--batch 1024] [--on cpu] [--dtype fp32]
"""
from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from intensity.analysis.folding import predict_folding
from intensity.hardware import get_spec
from intensity.measure.folding import bench_folding
from intensity.models import resolve_model

MODELS = ["noscope-coral", "noscope-night", "noscope-roundabout", "noscope-taipei", "game-lol-gold1",
          "game-apex-count", "game-sot-coin", "game-sot-time"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--on", default="cpu")
    parser.add_argument("--dtype", default="fp32")
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    console = Console(width=150)
    spec = get_spec("measured", args.dtype)
    table = Table(title=f"folding: batch {args.batch}, {args.dtype} on {args.on} ({spec.name}; "
                        f"{spec.peak_tflops[args.dtype]:.3f} TFLOP/s, {spec.bandwidth_gbs:.1f} GB/s measured)",
                  title_justify="left")
    for column in ("model", "f", "predicted speedup", "measured speedup", "with fold/unfold",
                   "utilization", "original images/s", "folded images/s"):
        table.add_column(column, justify="left" if column == "model" else "right")
    with console.status("measuring") as status:
        for name in args.models.split(","):
            status.update(f"measuring {name}")
            resolved = resolve_model(name)
            predicted = {p.f: p for p in predict_folding(name, [2, 3, 4], batch=args.batch, dtype=args.dtype,
                                                         device=spec)}
            measured = bench_folding(resolved.module, resolved.input_shape, [2, 3, 4], batch=args.batch,
                                     device=args.on, dtype=args.dtype, peak_flops=spec.peak_flops(args.dtype),
                                     iters=args.iters, trials=3, channels_last=args.channels_last,
                                     compile=args.compile)
            base = measured[0]
            for r in measured:
                guess = f"{predicted[r.f].speedup:.2f}x" if r.f in predicted else "1.00x"
                table.add_row(name, str(r.f), guess, f"{r.speedup:.2f}x", f"{r.speedup_with_reshape:.2f}x",
                              f"{r.utilization:.1%}", f"{base.images_per_s:,.0f}", f"{r.images_per_s:,.0f}")
    console.print(table)


if __name__ == "__main__":
    main()
