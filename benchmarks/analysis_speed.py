"""How fast is intensity's analysis, next to fvcore and torch's FlopCounterMode, and do flops agree?

Each tool runs as its own documentation shows: fvcore's FlopCountAnalysis traces the model with
real input tensors; FlopCounterMode wraps a real forward pass; intensity runs on meta tensors.
Real tensors at batch 1024 do not fit this machine (ResNet-50 alone needs ~100 GB of
activations), so the peers run at --peer-batch (32) only; intensity runs at every batch, and its
flops per image are compared with FlopCounterMode's. fvcore counts one "flop" per MAC, so its
totals are doubled to compare. Every tool is warmed up once before timing.

Run: .venv/bin/python benchmarks/analysis_speed.py [--quick] [--threads 1] [--batches 32,1024] [--models a,b]
Full runs write benchmarks/results/analysis_speed_cpu.txt; --quick (2 models) prints only. Threads
default to 1: the peers run real forward passes, and 2 threads on this shared 2-core machine stall
whenever another process takes a core.
Goal (issue 2): intensity >= 5x faster than fvcore at batch 32, its time independent of batch,
flops within 0.5% of FlopCounterMode.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import header, load, write  # noqa: E402

from intensity import analyze  # noqa: E402
from intensity.models import resolve_model  # noqa: E402

MODELS = [
    "torchvision:resnet18", "torchvision:resnet50", "torchvision:mobilenet_v2",
    "torchvision:mobilenet_v3_large", "torchvision:efficientnet_b0", "torchvision:densenet121",
    "torchvision:squeezenet1_0", "torchvision:vgg11", "torchvision:regnet_y_400mf",
    "torchvision:convnext_tiny", "timm:ghostnet_100", "timm:mixnet_s", "timm:resnet26d",
]


QUICK_MODELS = ["torchvision:resnet18", "torchvision:mobilenet_v2"]
SPREADS: list[float] = []  # (max - min) / median of intensity's repeated timings, every row


def _timed(action, repeats: int = 1) -> tuple[float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    if repeats > 1:
        SPREADS.append((max(times) - min(times)) / statistics.median(times))
    return statistics.median(times), result


def intensity_flops(model: torch.nn.Module, batch: int, shape: tuple[int, ...]) -> int:
    return analyze(model, batch=batch, input_shape=shape).totals.flops


def flop_counter_mode_flops(model: torch.nn.Module, batch: int, shape: tuple[int, ...]) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(batch, *shape))
    return counter.get_total_flops()


def fvcore_flops(model: torch.nn.Module, batch: int, shape: tuple[int, ...]) -> int:
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model, torch.randn(batch, *shape))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return 2 * analysis.total()  # fvcore counts one flop per multiply-accumulate


def warm_up() -> None:
    model = resolve_model("torchvision:resnet18").module.eval()
    for tool in (intensity_flops, flop_counter_mode_flops, fvcore_flops):
        tool(model, 1, (3, 64, 64))


def measure(name: str, batches: list[int], peer_batch: int) -> list[dict]:
    resolved = resolve_model(name)
    model, shape = resolved.module.eval(), resolved.input_shape
    fcm_seconds, fcm = _timed(lambda: flop_counter_mode_flops(model, peer_batch, shape))
    fv_seconds, fv = _timed(lambda: fvcore_flops(model, peer_batch, shape))
    rows = []
    for batch in batches:
        ours_seconds, ours = _timed(lambda: intensity_flops(model, batch, shape), repeats=3)
        peers = batch == peer_batch
        rows.append({
            "model": name, "batch": batch, "intensity_s": ours_seconds,
            "fvcore_s": fv_seconds if peers else None, "fcm_s": fcm_seconds if peers else None,
            "flops_vs_fcm": ours / (fcm * batch / peer_batch) - 1,
            "flops_vs_fvcore": ours / (fv * batch / peer_batch) - 1,
        })
    return rows


def _fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def render(rows: list[dict]) -> Table:
    table = Table(title="analysis time (s) and flops agreement", title_justify="left")
    for column in ("model", "batch", "intensity", "fvcore", "FlopCounterMode", "fvcore / intensity",
                   "FCM / intensity", "flops vs FCM", "flops vs fvcore"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for r in rows:
        fv_ratio = r["fvcore_s"] / r["intensity_s"] if r["fvcore_s"] else None
        fcm_ratio = r["fcm_s"] / r["intensity_s"] if r["fcm_s"] else None
        table.add_row(r["model"], str(r["batch"]), f"{r['intensity_s']:.3f}",
                      _fmt(r["fvcore_s"], "{:.3f}"), _fmt(r["fcm_s"], "{:.3f}"),
                      _fmt(fv_ratio, "{:.1f}x"), _fmt(fcm_ratio, "{:.1f}x"),
                      f"{r['flops_vs_fcm']:+.3%}", f"{r['flops_vs_fvcore']:+.2%}")
    return table


def summary(rows: list[dict], batches: list[int], peer_batch: int) -> list[str]:
    peer_rows = [r for r in rows if r["batch"] == peer_batch]
    speedups = [r["fvcore_s"] / r["intensity_s"] for r in peer_rows]
    lines = [f"fvcore / intensity at batch {peer_batch}: min {min(speedups):.1f}x, "
             f"median {statistics.median(speedups):.1f}x (goal >= 5x)",
             f"largest |flops - FlopCounterMode|: {max(abs(r['flops_vs_fcm']) for r in rows):.3%} "
             f"(goal <= 0.5%)"]
    if len(batches) > 1:
        by_model = {}
        for r in rows:
            by_model.setdefault(r["model"], {})[r["batch"]] = r["intensity_s"]
        ratios = [t[max(batches)] / t[min(batches)] for t in by_model.values()]
        lines.append(f"intensity time at batch {max(batches)} / batch {min(batches)}: median "
                     f"{statistics.median(ratios):.2f}, max {max(ratios):.2f} (goal: ~1)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 models; print only")
    parser.add_argument("--batches", default="32,1024")
    parser.add_argument("--peer-batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", default=None)
    args = parser.parse_args()
    args.models = args.models or ",".join(QUICK_MODELS if args.quick else MODELS)
    batches = [int(b) for b in args.batches.split(",")]
    torch.set_num_threads(args.threads)
    console = Console(width=170, record=True)  # the table is read from files and pipes, not just terminals
    console.print(header(args.threads, "quick" if args.quick else "full"), markup=False)
    warm_up()
    rows = []
    with console.status("measuring") as status:
        for name in args.models.split(","):
            status.update(f"measuring {name}")
            rows += measure(name, batches, args.peer_batch)
    console.print(render(rows))
    for line in summary(rows, batches, args.peer_batch):
        console.print(line)
    console.print(f"spread of intensity's 3 timings per row ((max - min) / median): median "
                  f"{statistics.median(SPREADS):.0%}, max {max(SPREADS):.0%}; peers timed once; load at end: {load()}",
                  markup=False)
    path = write("analysis_speed_cpu.txt", console.export_text(), args.quick)
    if path:
        print(f"written to {path}")


if __name__ == "__main__":
    main()
