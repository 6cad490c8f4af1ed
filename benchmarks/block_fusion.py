"""Block fusion on this machine: the ConvFirst block of seed 001 Table 1, layer-wise vs fused.

CPU (fp32, fixed threads, eval mode, no grad), per Table 1 grid point scaled to batch --batch:
  (1) eager: the zoo's layer-wise ConvFirst block in PyTorch eager mode;
  (2) inductor: the same block under torch.compile (Inductor's C++ backend), compiled and warmed
      up before timing (first compile ~30 s per shape; --quick compiles one grid point only);
  (3) fused: intensity.kernels' chunked PyTorch reference (FFN loop fusion, Eqn 32).
Time is the median of --trials trials of --iters calls (spread = min..max); peak memory is the
rise of the process's peak RSS (VmHWM, reset through /proc/self/clear_refs) over one call.
Ratios are against Inductor, measured in the same run. Whole network: ConvFirstNet-Pico eager
layer-wise vs fuse()d, images/s.

GPU (only when CUDA is available): Table 1 at batch 128 fp16 with CUDA events, the fused block
(Triton where supported) vs Inductor mode="max-autotune", TFLOP/s and % of the device's peak.

Run: PYTHONPATH=src python benchmarks/block_fusion.py [--quick] [--threads 1] [--out FILE]
"""
from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch
from rich.console import Console
from rich.table import Table

from intensity.kernels import FusedConvFirst, fuse
from intensity.models import create_model
from intensity.models.layers import ConvFirst

TABLE1 = [(16, 3, 128), (32, 3, 128), (32, 6, 64), (48, 6, 64), (64, 6, 64), (48, 6, 32), (64, 6, 32), (96, 6, 32)]
QUICK = [(16, 3, 128), (48, 6, 32)]


def block_flops(c: int, alpha: int, hw: int, batch: int) -> int:
    """2 x MACs: grouped 3x3 (width 8) + two 1x1 convs (BN, ReLU, residual not counted)."""
    return 2 * batch * hw * hw * (c * 8 * 9 + 2 * c * alpha * c)


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


def peak_mb(action: Callable[[], object]) -> float | None:
    """Peak RSS rise over one call, MB; None where the kernel does not let us reset the peak."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset VmHWM to the current RSS
    except OSError:
        return None
    before = _rss_kb("VmRSS")
    action()
    return (_rss_kb("VmHWM") - before) / 1024


def timed(action: Callable[[], object], trials: int, iters: int) -> tuple[float, float, float]:
    """(median, min, max) seconds per call over `trials` trials of `iters` calls."""
    action()
    per_call = []
    for _ in range(trials):
        start = time.perf_counter()
        for _ in range(iters):
            action()
        per_call.append((time.perf_counter() - start) / iters)
    return statistics.median(per_call), min(per_call), max(per_call)


def cpu_point(c: int, alpha: int, hw: int, args: argparse.Namespace, compile_it: bool) -> dict:
    torch.manual_seed(0)
    block = ConvFirst(c, c, alpha).eval()
    x = torch.randn(args.batch, c, hw, hw)
    variants = {"eager": block, "fused": FusedConvFirst(block)}
    if compile_it:
        compiled = torch.compile(block)
        start = time.perf_counter()
        with torch.no_grad():
            compiled(x)
        variants["inductor"] = compiled
        compile_s = time.perf_counter() - start
    row = {"point": f"{c}c{alpha}a{hw}hw", "flops": block_flops(c, alpha, hw, args.batch),
           "compile_s": compile_s if compile_it else None}
    with torch.no_grad():
        expected = block(x)
        for name, module in variants.items():
            row[f"{name}_diff"] = (module(x) - expected).abs().max().item()
            row[f"{name}_time"] = timed(lambda m=module: m(x), args.trials, args.iters)
    for name, value in memory_of(f"{c},{alpha},{hw}", args, compile_it).items():
        row[f"{name}_mb"] = value
    return row


def network_point(args: argparse.Namespace) -> dict:
    torch.manual_seed(0)
    model = create_model("convfirstnet-pico").eval()
    fused, report = fuse(model)
    x = torch.randn(args.batch, 3, args.resolution, args.resolution)
    row = {"replaced": len(report.replaced), "unchanged": len(report.unchanged)}
    with torch.no_grad():
        row["diff"] = (fused(x) - model(x)).abs().max().item()
        for name, module in (("layer", model), ("fused", fused)):
            row[f"{name}_time"] = timed(lambda m=module: m(x), args.trials, max(1, args.iters // 2))
    for name, value in memory_of("net", args, False).items():
        row[f"{name}_mb"] = value
    return row


def _time(t: tuple[float, float, float] | None) -> str:
    return f"{t[0] * 1e3:.1f} ({t[1] * 1e3:.1f}..{t[2] * 1e3:.1f})" if t else "-"


def _mb(value: float | None) -> str:
    return f"{value:.0f}" if value is not None else "-"


def cpu_table(rows: list[dict], args: argparse.Namespace) -> Table:
    table = Table(title=f"ConvFirst block, CPU fp32, batch {args.batch}, {args.threads} thread(s): "
                        "ms per call median (min..max), peak RSS rise MB; ratios vs Inductor", title_justify="left")
    columns = ["point", "GFLOP", "eager ms", "inductor ms", "fused ms", "fused GFLOP/s", "speedup vs inductor",
               "speedup vs eager", "eager MB", "inductor MB", "fused MB", "mem fused/inductor", "max diff"]
    for column in columns:
        table.add_column(column, justify="left" if column == "point" else "right")
    for r in rows:
        fused, eager, ind = r["fused_time"][0], r["eager_time"][0], r.get("inductor_time")
        mem_ratio = (f"{r['fused_mb'] / r['inductor_mb']:.2f}" if r.get("inductor_mb") and r.get("fused_mb") is not None
                     else "-")
        diff = max(r["fused_diff"], r.get("inductor_diff", 0.0))
        table.add_row(r["point"], f"{r['flops'] / 1e9:.2f}", _time(r["eager_time"]), _time(ind), _time(r["fused_time"]),
                      f"{r['flops'] / fused / 1e9:.1f}", f"{ind[0] / fused:.2f}x" if ind else "not compiled",
                      f"{eager / fused:.2f}x", _mb(r.get("eager_mb")), _mb(r.get("inductor_mb")), _mb(r.get("fused_mb")),
                      mem_ratio, f"{diff:.1e}")
    return table


def network_table(row: dict, args: argparse.Namespace) -> Table:
    table = Table(title=f"ConvFirstNet-Pico, CPU fp32, batch {args.batch} at {args.resolution}x{args.resolution}, "
                        f"{args.threads} thread(s) ({row['replaced']} blocks fused, {row['unchanged']} left, "
                        f"max diff {row['diff']:.1e})", title_justify="left")
    for column in ("execution", "ms per batch median (min..max)", "images/s", "peak RSS rise MB", "speedup"):
        table.add_column(column, justify="left" if column == "execution" else "right")
    for name, label in (("layer", "layer-wise (eager)"), ("fused", "fuse()d (reference kernels)")):
        t = row[f"{name}_time"]
        table.add_row(label, _time(t), f"{args.batch / t[0]:.1f}", _mb(row.get(f"{name}_mb")),
                      f"{row['layer_time'][0] / t[0]:.2f}x")
    return table


def gpu_rows(args: argparse.Namespace) -> list[dict]:
    """Table 1 on CUDA: fp16 batch 128, CUDA events; fused (Triton where supported) vs Inductor max-autotune."""
    from intensity.hardware import get_spec
    from intensity.hardware.backends import select_device

    gpu = select_device("cuda")
    peak = get_spec(args.gpu_spec, "fp16").peak_flops("fp16") if args.gpu_peak is None else args.gpu_peak * 1e12
    rows = []
    for c, alpha, hw in getattr(args, "points", None) or (QUICK if args.quick else TABLE1):
        block = ConvFirst(c, c, alpha).eval().to(gpu.torch_device).half()
        x = torch.randn(128, c, hw, hw, device=gpu.torch_device, dtype=torch.float16)
        row = {"point": f"{c}c{alpha}a{hw}hw", "flops": block_flops(c, alpha, hw, 128)}
        for name, module in (("inductor", torch.compile(block, mode="max-autotune")), ("fused", fuse(block)[0])):
            with torch.no_grad():
                for _ in range(20):  # warm-up; the first call compiles (Inductor) or JITs (Triton)
                    module(x)
                seconds = gpu.seconds(lambda m=module: m(x), 100) / 100  # CUDA events (the backend's timer)
            row[name] = (seconds, row["flops"] / seconds / 1e12, row["flops"] / seconds / peak)
        rows.append(row)
    return rows


def memory_child(args: argparse.Namespace) -> None:
    """--memory-point: peak RSS rise per variant of one point, as JSON (run with mmap malloc)."""
    torch.set_num_threads(args.threads)
    if args.memory_point == "net":
        model = create_model("convfirstnet-pico").eval()
        variants = {"layer": model, "fused": fuse(model)[0]}
        x = torch.randn(args.batch, 3, args.resolution, args.resolution)
    else:
        c, alpha, hw = (int(v) for v in args.memory_point.split(","))
        block = ConvFirst(c, c, alpha).eval()
        variants = {"eager": block, "fused": FusedConvFirst(block)}
        if not args.no_compile:
            variants["inductor"] = torch.compile(block)
        x = torch.randn(args.batch, c, hw, hw)
    result = {}
    with torch.no_grad():
        for name, module in variants.items():
            module(x)  # warm up (and compile) before measuring
            result[name] = peak_mb(lambda m=module: m(x))
    print(json.dumps(result))


def memory_of(point: str, args: argparse.Namespace, compile_it: bool) -> dict:
    """Peak memory in a child process whose glibc mmaps every allocation over 64 KiB, so freed
    tensors leave the RSS (timing runs here, with the normal allocator)."""
    command = [sys.executable, __file__, "--memory-point", point, "--batch", str(args.batch),
               "--threads", str(args.threads), "--resolution", str(args.resolution)]
    command += [] if compile_it else ["--no-compile"]
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if done.returncode == 0 and lines else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 grid points, 1 compiled, few trials (< ~40 s)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--resolution", type=int, default=128, help="ConvFirstNet-Pico input size")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile (Inductor)")
    parser.add_argument("--gpu-spec", default="measured", help="intensity device spec for the GPU's peak")
    parser.add_argument("--gpu-peak", type=float, default=None, help="GPU fp16 peak TFLOP/s for %% of peak")
    parser.add_argument("--out", default=None, help="also write the tables here")
    parser.add_argument("--memory-point", default=None, help=argparse.SUPPRESS)  # internal: child mode
    args = parser.parse_args()
    if args.memory_point:
        return memory_child(args)
    if args.quick:
        args.trials, args.iters, args.resolution = min(args.trials, 3), min(args.iters, 2), min(args.resolution, 96)
    torch.set_num_threads(args.threads)
    console = Console(record=True, width=200)
    load = os.getloadavg()
    console.print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
                  f"{os.cpu_count()} cores, torch {torch.__version__}, threads {args.threads}, "
                  f"load before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    points = QUICK if args.quick else TABLE1
    rows = [cpu_point(c, a, hw, args, compile_it=not args.no_compile and (not args.quick or i == 0))
            for i, (c, a, hw) in enumerate(points)]
    console.print(cpu_table(rows, args))
    compile_s = [r["compile_s"] for r in rows if r["compile_s"]]
    if compile_s:
        console.print(f"Inductor first compile: {', '.join(f'{s:.0f} s' for s in compile_s)} (not in the times)")
    console.print(network_table(network_point(args), args))
    if torch.cuda.is_available():
        for r in gpu_rows(args):
            ind, fus = r["inductor"], r["fused"]
            console.print(f"GPU {r['point']}: inductor {ind[0] * 1e3:.3f} ms {ind[1]:.1f} TFLOP/s {ind[2]:.1%}; "
                          f"fused {fus[0] * 1e3:.3f} ms {fus[1]:.1f} TFLOP/s {fus[2]:.1%}; speedup {ind[0] / fus[0]:.1f}x")
    else:
        console.print("GPU part: unmeasured (no CUDA device on this machine)")
    load = os.getloadavg()
    console.print(f"load after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.out:
        with open(args.out, "w") as out:
            out.write(console.export_text())


if __name__ == "__main__":
    main()
