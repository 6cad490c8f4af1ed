"""Does the waterline predict which models run slower? Predicted vs measured latency on this machine.

For each model: the waterline minimum latency (seed 001 Eqn 12) with this machine's measured
matmul peak and copy bandwidth (`--device measured`), and the measured latency per batch
(median of trials). Prints both, their ratio, and the Spearman rank correlation across models.
Goal (issue 4): rank correlation >= 0.8 on CPU. On a GPU run with --on cuda --dtype fp16.

Run: .venv/bin/python benchmarks/prediction_fidelity.py [--batch 8] [--on cpu] [--dtype fp32]
"""
from __future__ import annotations

import argparse

import pandas as pd
from rich.console import Console
from rich.table import Table

from intensity import analyze
from intensity.analysis.roofline import waterline
from intensity.hardware import get_spec
from intensity.measure.throughput import measure_throughput
from intensity.models import resolve_model

MODELS = [
    "noscope-coral", "noscope-roundabout", "noscope-taipei", "game-lol-gold1", "game-sot-time",
    "resnet18-cifar10", "nats-size:8:16:24:32:64", "nats-size:64:64:64:64:64", "squeezenet1_1",
    "squeezenet1_0", "nin", "convfirstnet-pico", "torchvision:resnet18", "torchvision:mobilenet_v2",
    "torchvision:mobilenet_v3_small", "timm:efficientnet_b0",
]


def fidelity(name: str, batch: int, on: str, dtype: str, spec) -> dict:  # noqa: ANN001
    resolved = resolve_model(name)
    report = analyze(resolved.module, batch=batch, input_shape=resolved.input_shape, dtype=dtype)
    predicted = waterline(report.kernels, spec.peak_flops(dtype), spec.bandwidth)
    measured = measure_throughput(resolved.module, batch, resolved.input_shape, device=on, dtype=dtype,
                                  warmup=2, iters=5, trials=3, channels_last=on == "cuda")
    return {"model": name, "predicted_ms": predicted.latency * 1e3, "measured_ms": measured.batch_latency * 1e3,
            "efficiency": predicted.latency / measured.batch_latency}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--on", default="cpu")
    parser.add_argument("--dtype", default="fp32")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    console = Console(width=140)
    spec = get_spec("measured", args.dtype)
    rows = []
    with console.status("measuring") as status:
        for name in args.models.split(","):
            status.update(f"measuring {name}")
            rows.append(fidelity(name, args.batch, args.on, args.dtype, spec))
    frame = pd.DataFrame(rows)
    table = Table(title=f"waterline vs measured, batch {args.batch}, {args.dtype} on {args.on} "
                        f"({spec.name}: {spec.peak_tflops[args.dtype]:.3f} TFLOP/s, {spec.bandwidth_gbs:.1f} GB/s)",
                  title_justify="left")
    for column in ("model", "predicted ms", "measured ms", "predicted / measured"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in rows:
        table.add_row(row["model"], f"{row['predicted_ms']:.3f}", f"{row['measured_ms']:.3f}", f"{row['efficiency']:.1%}")
    console.print(table)
    rho = frame["predicted_ms"].corr(frame["measured_ms"], method="spearman")
    console.print(f"Spearman rank correlation over {len(rows)} models: {rho:.3f} (goal >= 0.8)")


if __name__ == "__main__":
    main()
