"""The GPU check: every GPU path of intensity, measured in one run of under 8 minutes (`make gpu-check`).

Parts, each in its own process under its own time limit (a hang or a crash costs that part only):
  throughput    images/s, utilization and peak memory of 5 zoo CNNs, fp16 channels-last (measure API)
  calibrate     `intensity calibrate-device --on cuda --quick --dtype fp16` (the CLI itself; JSON kept beside the text)
  estimate      measured vs estimated images/s of ~30 timm and zoo CNNs under AMP (issue 18 section 4): the
                datasheet-only estimate, the calibrated one and a profile fitted to these runs
  block_fusion  Triton block-fusion kernels vs Inductor max-autotune (benchmarks/block_fusion.py GPU part)
  fold_speedup  folded speedup on CUDA fp16 channels-last (benchmarks/fold_speedup.py)
  energy        NVML power: J/image, energy per pixel, MACs/J (measure/energy.py)
  train         1 epoch of training on CUDA: fp32 original and bf16 folded (f = 2)
Each part writes RESULTS_DIR/<part>_gpu.txt (machine, date, settings, figures). A part whose CUDA,
NVML or Triton is missing prints `skipped: <part>: <reason>` and writes nothing, so on a CPU-only
machine the check runs to the end in seconds and says what it skipped. Exit code: 0 when every part
ran or was skipped, 1 when a part failed or ran past its limit.

Run: .venv/bin/python benchmarks/gpu_check.py [--parts throughput,train] [--results-dir DIR] [--quick]
--quick: fewer models and iterations, and nothing written unless --results-dir is given.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MODELS = ["noscope-coral", "game-lol-gold1", "squeezenet1_0", "resnet18-cifar10", "convfirstnet-pico"]
QUICK_MODELS = ["noscope-coral", "squeezenet1_0"]
DEVICE = "cuda"  # where the parts run (a test runs some of them on the CPU, where they would be skipped)


@dataclass(frozen=True)
class Part:
    name: str
    needs: tuple[str, ...]  # cuda, nvml, triton
    limit_s: int  # wall-clock limit of its process; the limits sum to under 8 minutes
    what: str


PARTS = [
    Part("throughput", ("cuda",), 55, "images/s and utilization of 5 zoo CNNs, fp16 channels-last"),
    Part("calibrate", ("cuda",), 65, "calibrate-device --on cuda --quick --dtype fp16"),
    Part("estimate", ("cuda",), 120, "measured vs estimated images/s of ~30 CNNs under AMP (datasheet, "
                                     "calibrated, fitted here)"),
    Part("block_fusion", ("cuda", "triton"), 95, "Triton block fusion vs Inductor max-autotune"),
    Part("fold_speedup", ("cuda",), 50, "fold_speedup on CUDA fp16 channels-last"),
    Part("energy", ("cuda", "nvml"), 35, "NVML energy per image and per pixel"),
    Part("train", ("cuda",), 55, "1 epoch of training on CUDA (fp32 and bf16 autocast)"),
]
# The estimate part's CNNs: timm families the published tables cover (dense, grouped, depthwise,
# reparameterized, dense-connected) and zoo models at small inputs, where per-kernel cost rules.
ESTIMATE_MODELS = [
    "timm:resnet18", "timm:resnet34", "timm:resnet50", "timm:resnet101", "timm:resnet50d",
    "timm:resnext50_32x4d", "timm:wide_resnet50_2", "timm:seresnet50", "timm:regnetx_032", "timm:regnety_016",
    "timm:regnety_040", "timm:efficientnet_b0", "timm:efficientnet_b2", "timm:tf_efficientnetv2_b0",
    "timm:mobilenetv2_100", "timm:mobilenetv3_large_100", "timm:mobilenetv4_conv_small", "timm:ghostnet_100",
    "timm:convnext_atto", "timm:convnext_tiny", "timm:densenet121", "timm:dla34", "timm:hgnetv2_b0",
    "timm:repvgg_a2", "timm:mobileone_s1", "timm:rexnet_100", "timm:cspresnet50",
    "resnet18-cifar10", "squeezenet1_0", "noscope-coral",
]
QUICK_ESTIMATE_MODELS = ["timm:resnet18", "timm:mobilenetv3_large_100", "timm:convnext_atto", "timm:regnety_016",
                         "resnet18-cifar10", "noscope-coral"]
# torch.cuda.get_device_name() fragments -> our spec (most specific first); others need --gpu-spec
GPU_SPECS = [("h200", "h200"), ("h100 pcie", "h100-pcie"), ("h100", "h100"), ("a100 80gb pcie", "a100-80gb-pcie"),
             ("a100-sxm4-80gb", "a100-80gb"), ("a100 80gb", "a100-80gb"), ("a100", "a100-40gb"),
             ("rtx 4090", "rtx4090"), ("rtx 5090", "rtx5090"), ("6000 blackwell max-q", "pro6000maxq"),
             ("rtx a6000", "a6000"), ("rtx a5000", "a5000"), ("l4", "l4"), ("t4", "t4"),
             ("v100-pcie", "v100-pcie"), ("v100", "v100")]


# --- what is missing, asked cheaply in the parent ------------------------------------------------

def missing(needs: tuple[str, ...]) -> str | None:
    """The first reason a part cannot run here, or None."""
    for need in needs:
        reason = {"cuda": _cuda_missing, "nvml": _nvml_missing, "triton": _triton_missing}[need]()
        if reason:
            return reason
    return None


def _cuda_missing() -> str | None:
    from intensity.hardware.backends import BACKENDS

    return BACKENDS["cuda"].unavailable()


def _nvml_missing() -> str | None:
    from intensity.measure.energy import energy_unavailable

    return energy_unavailable()


def _triton_missing() -> str | None:
    from intensity.kernels import triton_kernels

    if not triton_kernels.available():
        return "Triton is not installed (pip install triton; Linux CUDA builds of torch bring it)"
    return None


# --- running a part in its own process -----------------------------------------------------------

def run_child(command: list[str], limit_s: float) -> tuple[bool, str, str]:
    """(finished cleanly, last line of its output or why not, its whole stdout). At the limit (or on
    Ctrl-C) the whole process group is killed: compile workers and sub-commands included."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as process:
        try:
            out, err = process.communicate(timeout=limit_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return False, f"over its {limit_s:g} s limit (killed)", _text(process.communicate()[0])
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    lines = (out + err).strip().splitlines()
    last = lines[-1] if lines else "(no output)"
    return process.returncode == 0, last, out


def _text(output: str | bytes | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def run_parts(parts: list[Part], args: argparse.Namespace, say: Callable[[str], None] = print) -> int:
    failures = 0
    for part in parts:
        reason = missing(part.needs)
        if reason:
            say(f"skipped: {part.name}: {reason}")
            continue
        start = time.perf_counter()
        command = [sys.executable, __file__, "--part", part.name, "--gpu-spec", args.gpu_spec]
        command += (["--quick"] if args.quick else []) + (["--results-dir", str(args.results_dir)] if args.results_dir else [])
        ok, detail, output = run_child(command, part.limit_s)
        failures += not ok
        if ok and _results_dir(args) is None:
            say(output.rstrip())  # nothing written: the figures go to the screen
        say(f"{'done' if ok else 'failed'}: {part.name} ({time.perf_counter() - start:.0f} s): {detail}")
    return 1 if failures else 0


# --- the parts (each runs in a child process) ----------------------------------------------------

def header(part: Part, settings: str) -> str:
    """Machine, date, software and settings: the context each figure needs."""
    import torch

    from intensity.hardware.backends import cpu_model, select_device

    gpu = select_device(DEVICE)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return (f"# {part.name}: {part.what}\n# machine: {socket.gethostname()}, {gpu} {gpu.name()}; host {cpu_model()}, "
            f"{os.cpu_count()} cores\n# software: torch {torch.__version__}, CUDA {torch.version.cuda}, "
            f"cuDNN {torch.backends.cudnn.version()}, Python {platform.python_version()}\n"
            f"# date: {now}\n# settings: {settings}\n")


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f}"


def part_throughput(part: Part, args: argparse.Namespace) -> str:
    from intensity.hardware.backends import select_device
    from intensity.measure.measurement import measure_model

    gpu, lines = select_device(DEVICE), []
    batch, iters = (64, 5) if args.quick else (256, 20)
    for name in QUICK_MODELS if args.quick else MODELS:
        gpu.reset_peak_memory()
        m = measure_model(name, batch=batch, dtype="fp16", on=DEVICE, device=args.gpu_spec, iters=iters,
                          trials=3, channels_last=True)
        t = m.throughput
        lines.append(f"{name:20s} {t.images_per_s:12,.0f} {t.images_per_s_min:12,.0f} {t.images_per_s_max:12,.0f} "
                     f"{t.spread:7.1%} {m.utilization:9.2%} {_mib(gpu.memory().peak_allocated):>10s}")
    settings = (f"batch {batch}, fp16, channels-last, {iters} batches x 3 trials (median, min, max), "
                f"utilization against spec {args.gpu_spec} ({m.peak_tflops:.1f} TFLOP/s fp16)")
    table = (f"{'model':20s} {'images/s':>12s} {'min':>12s} {'max':>12s} {'spread':>7s} {'util.':>9s} "
             f"{'peak MiB':>10s}\n")
    return header(part, settings) + table + "\n".join(lines) + "\n"


def part_calibrate(part: Part, args: argparse.Namespace) -> str:
    out = Path(tempfile.mkdtemp()) / "calibration_gpu.json"
    command = [sys.executable, "-m", "intensity.cli", "calibrate-device", "--on", DEVICE, "--quick", "--dtype", "fp16",
               "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "160"})
    if done.returncode != 0:
        raise RuntimeError(f"calibrate-device failed: {(done.stdout + done.stderr).strip()[-500:]}")
    text = header(part, "intensity calibrate-device --on cuda --quick --dtype fp16 (quick grid)") + done.stdout
    _write(args, "calibration_gpu.json", out.read_text())
    return text


def spec_of_gpu(device_name: str, given: str = "measured") -> str:
    """The spec an estimate for this GPU uses: `given` unless it is `measured`, else the spec its
    name matches; a GPU we have no spec for is a clear error naming --gpu-spec."""
    if given != "measured":
        return given
    name = device_name.lower().replace("-", " ")
    for fragment, spec in GPU_SPECS:
        if fragment.replace("-", " ") in name:
            return spec
    raise ValueError(f"no spec matches GPU {device_name!r}: give --gpu-spec (a spec of `intensity list-devices` "
                     f"or a .toml)")


@dataclass
class EstimateRun:
    """The estimate part's measurements: samples for the fit, and what was left out and why."""

    samples: list
    spreads: list[float]
    calibrated: list[float | None]  # calibrated images/s per sample (None: no calibration here)
    skipped: list[str]


def part_estimate(part: Part, args: argparse.Namespace) -> str:
    from intensity.analysis.efficiency import profile_for
    from intensity.explore import fit_device as F
    from intensity.hardware import get_spec
    from intensity.hardware.backends import select_device

    spec = get_spec(spec_of_gpu(select_device(DEVICE).name(), args.gpu_spec), "fp16")
    batch, iters = (32, 3) if args.quick else (256, 5)
    run = _estimate_runs(part, args, batch, iters)
    if len(run.samples) < 3:
        raise RuntimeError(f"only {len(run.samples)} models measured: {'; '.join(run.skipped)}")
    d = F.design(run.samples, spec)
    datasheet = profile_for(spec, "eager")
    fitted = F.fit(d, f"{spec.key} (gpu-check)", "eager")
    fitted = dataclasses.replace(fitted, source=f"fitted to {d.count} AMP measurements of the gpu check on "
                                                f"{select_device(DEVICE).name()}")
    estimates = {"datasheet": F.predicted_seconds(d, F.profile_values(datasheet)),
                 "fitted here": F.predicted_seconds(d, F.profile_values(fitted))}
    bound = F.bound_seconds(d, spec)
    lines = _estimate_rows(run, estimates, bound)
    lines += ["", f"{'estimate':22s} " + " ".join(f"{k:>11s}" for k in FIDELITY_KEYS)]
    for label, seconds in estimates.items():
        lines.append(_fidelity_row(label, F.fidelity(d.measured, seconds, bound)))
    calibrated = [r for r in run.calibrated if r]
    if len(calibrated) == len(run.samples):
        lines.append(_fidelity_row("calibrated", F.fidelity(d.measured, batch / np.array(calibrated), bound)))
    if len(run.samples) >= 10 and len({s.family for s in run.samples}) >= 2:
        lines.append(_fidelity_row("fitted, family CV", F.cross_validate(run.samples, spec, "eager")))
    lines += ["", f"datasheet profile: {datasheet.name} ({datasheet.source})",
              f"fitted here: {_parameters(fitted)}", f"datasheet: {_parameters(datasheet)}"]
    lines += [f"skipped: {why}" for why in run.skipped]
    _write(args, "estimate_gpu_profile.json", json.dumps(fitted.to_dict(), indent=1) + "\n")
    settings = (f"batch {batch}, fp16 autocast on the fp32 model (timm's AMP benchmark: NCHW), {iters} batches x 3 "
                f"trials after 2 warm-up (median); estimates for spec {spec.key}, eager runtime; bound: the same "
                f"kernels at peak and full bandwidth")
    return header(part, settings) + "\n".join(lines) + "\n"


FIDELITY_KEYS = ("models", "spearman", "geomean", "geostd", "within_10", "within_25", "beats_bound")


def _fidelity_row(label: str, result: dict) -> str:
    def cell(value: object) -> str:
        if value is None:
            return f"{'-':>11s}"
        return f"{value:11d}" if isinstance(value, int) else f"{value:11.3f}"

    return f"{label:22s} " + " ".join(cell(result.get(k)) for k in FIDELITY_KEYS)


def _parameters(profile: object) -> str:
    from intensity.analysis.efficiency import EfficiencyProfile

    return ", ".join(f"{name} {getattr(profile, name):.3g}" for name in EfficiencyProfile.PARAMETERS)


def _estimate_runs(part: Part, args: argparse.Namespace, batch: int, iters: int) -> EstimateRun:
    """Count (as AMP runs it) and measure each model until 70% of the part's limit is spent (the
    fit and the table need the rest); a model that fails is listed, never dropped silently."""
    from intensity.errors import first_line
    from intensity.explore import fit_device as F
    from intensity.measure.throughput import measure_throughput
    from intensity.models import resolve_model

    calibration = _calibration_file(args)
    run, start = EstimateRun([], [], [], []), time.perf_counter()
    for name in QUICK_ESTIMATE_MODELS if args.quick else ESTIMATE_MODELS:
        if time.perf_counter() - start > 0.7 * part.limit_s:
            run.skipped.append(f"{name}: not reached within 70% of the part's {part.limit_s} s")
            continue
        try:
            resolved = resolve_model(name)
            shape = tuple(resolved.input_shape)
            table = F.count_table(name, shape, "eager")
            t = measure_throughput(resolved.module, batch, shape, device=DEVICE, dtype="fp16", amp=True, warmup=2,
                                   iters=iters, trials=3)
        except Exception as error:  # noqa: BLE001 (one model's failure is listed; the rest go on)
            run.skipped.append(f"{name}: {first_line(error)[:160]}")
            continue
        run.samples.append(F.Sample(F.PublishedRow(name, shape[-1], batch, t.images_per_s), table))
        run.spreads.append(t.spread)
        run.calibrated.append(_calibrated_rate(name, shape, batch, calibration))
        print(f"progress: {name} {t.images_per_s:,.0f} images/s", file=sys.stderr, flush=True)
    return run


def _calibration_file(args: argparse.Namespace) -> Path | None:
    """The calibrate part's JSON, where this run wrote one (it runs first)."""
    folder = _results_dir(args)
    path = folder / "calibration_gpu.json" if folder else None
    return path if path and path.is_file() else None


def _calibrated_rate(name: str, shape: tuple[int, ...], batch: int, calibration: Path | None) -> float | None:
    """Images/s from the calibrated kernel times (`--device calibrated:FILE`), or None."""
    if calibration is None:
        return None
    from intensity.analysis.predict import predict

    try:
        prediction = predict(name, device=f"calibrated:{calibration}", dtype="fp16", batch=batch, input_shape=shape)
    except (ValueError, RuntimeError) as error:
        print(f"progress: {name}: no calibrated estimate ({error})", file=sys.stderr, flush=True)
        return None
    return prediction.images_per_s


def _estimate_rows(run: EstimateRun, estimates: dict, bound) -> list[str]:  # noqa: ANN001
    """Per model: measured images/s (spread), each estimate's images/s and measured/estimated."""
    names = list(estimates)
    head = (f"{'model':30s} {'measured':>10s} {'spread':>7s} {'bound':>10s} "
            + " ".join(f"{n:>12s} {'meas/est':>8s}" for n in names) + f" {'calibrated':>11s}")
    lines = [head]
    for i, sample in enumerate(run.samples):
        batch, measured = sample.row.batch, sample.row.images_per_s
        cells = " ".join(f"{batch / estimates[n][i]:12,.0f} {measured / (batch / estimates[n][i]):8.2f}" for n in names)
        calibrated = run.calibrated[i]
        lines.append(f"{sample.row.model:30s} {measured:10,.0f} {run.spreads[i]:7.1%} {batch / bound[i]:10,.0f} "
                     f"{cells} {f'{calibrated:,.0f}' if calibrated else '-':>11s}")
    return lines


def part_block_fusion(part: Part, args: argparse.Namespace) -> str:
    sys.path.insert(0, str(HERE))
    import block_fusion

    rows, start = [], time.perf_counter()
    for point in block_fusion.QUICK[:1] if args.quick else block_fusion.QUICK:
        if time.perf_counter() - start > 0.4 * part.limit_s:  # max-autotune compiles slowly: keep what is done
            break
        rows += block_fusion.gpu_rows(argparse.Namespace(points=[point], gpu_spec=args.gpu_spec, gpu_peak=None))
    lines = [f"{r['point']:12s} {r['inductor'][0] * 1e3:10.3f} {r['inductor'][1]:8.1f} {r['inductor'][2]:7.1%} "
             f"{r['fused'][0] * 1e3:10.3f} {r['fused'][1]:8.1f} {r['fused'][2]:7.1%} "
             f"{r['inductor'][0] / r['fused'][0]:7.2f}x" for r in rows]
    table = (f"{'point':12s} {'ind. ms':>10s} {'TFLOP/s':>8s} {'% peak':>7s} {'fused ms':>10s} {'TFLOP/s':>8s} "
             f"{'% peak':>7s} {'speedup':>8s}\n")
    settings = (f"ConvFirst block (seed 001 Table 1 points {', '.join(r['point'] for r in rows)}), batch 128, fp16, "
                f"100 calls after 20 warm-up, CUDA events; Inductor mode=max-autotune; peak from spec {args.gpu_spec}")
    return header(part, settings) + table + "\n".join(lines) + "\n"


def part_fold_speedup(part: Part, args: argparse.Namespace) -> str:
    models = "noscope-coral,game-lol-gold1" if args.quick else "noscope-coral,noscope-taipei,game-lol-gold1,game-sot-time"
    command = [sys.executable, str(HERE / "fold_speedup.py"), "--quick", "--on", DEVICE, "--dtype", "fp16",
               "--channels-last", "--batch", "256" if args.quick else "1024", "--iters", "10",
               "--models", models, "--device", args.gpu_spec]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "170"})
    if done.returncode != 0:
        raise RuntimeError(f"fold_speedup.py failed: {(done.stdout + done.stderr).strip()[-500:]}")
    return header(part, " ".join(command[1:])) + done.stdout


def part_energy(part: Part, args: argparse.Namespace) -> str:
    from intensity.api import analyze
    from intensity.measure.energy import measure_energy
    from intensity.measure.throughput import measure_throughput
    from intensity.models import resolve_model

    lines, batch = [], 256
    for name in ("noscope-coral", "resnet18-cifar10"):
        model = resolve_model(name)
        shape = tuple(model.input_shape)
        rate = measure_throughput(model.module, batch, shape, device="cuda", dtype="fp16", iters=5).images_per_s
        iters = max(20, min(5000, int(3.0 * rate / batch)))  # ~3 s of work: NVML power updates slowly
        macs = analyze(model.module, batch=1, input_shape=shape).totals.flops / 2
        e = measure_energy(model.module, batch, shape, macs, dtype="fp16", iters=iters, device="cuda")
        lines.append(f"{name:18s} {iters:6d} {e.seconds:7.2f} {e.mean_power_w:8.1f} {e.joules_per_image * 1e3:10.4f} "
                     f"{e.epp * 1e9:10.3f} {e.macs_per_joule / 1e9:10.2f}")
    table = (f"{'model':18s} {'iters':>6s} {'s':>7s} {'W':>8s} {'mJ/image':>10s} {'nJ/pixel':>10s} "
             f"{'GMACs/J':>10s}\n")
    return header(part, f"batch {batch}, fp16, NVML power sampled every 10 ms over ~3 s") + table + "\n".join(lines) + "\n"


def part_train(part: Part, args: argparse.Namespace) -> str:
    from intensity.hardware.backends import select_device
    from intensity.train.loop import TrainConfig, train

    gpu, lines, per_class = select_device(DEVICE), [], 30 if args.quick else 60
    work = tempfile.mkdtemp()
    for f, amp in ((1, None), (2, "bf16")):
        gpu.reset_peak_memory()
        config = TrainConfig("game-lol-gold1", "generated:game-lol-gold1", f"{work}/f{f}", f=f, epochs=1, batch=64,
                             per_class=per_class, lr=1e-3, device=DEVICE, amp=amp if DEVICE != "cpu" else None)
        result = train(config)
        row = result.metrics[-1]
        lines.append(f"f={f} {config.amp or 'fp32':5s} {row['images_per_s']:10,.0f} {row['seconds']:8.2f} {row['loss']:8.4f} "
                     f"{row['train_acc']:8.1%} {row['val_acc']:8.1%} {result.test_acc:8.1%} "
                     f"{_mib(gpu.memory().peak_allocated):>9s}  {result.device}")
    table = (f"{'run':10s} {'images/s':>10s} {'s':>8s} {'loss':>8s} {'train':>8s} {'val':>8s} {'test':>8s} "
             f"{'peak MiB':>9s}\n")
    settings = (f"game-lol-gold1 on generated data ({per_class} images per class), 1 epoch, batch 64, Adam 1e-3, "
                f"channels-last, pinned loader; epoch time includes the data loading")
    return header(part, settings) + table + "\n".join(lines) + "\n"


RUNNERS = {"throughput": part_throughput, "calibrate": part_calibrate, "estimate": part_estimate,
           "block_fusion": part_block_fusion,
           "fold_speedup": part_fold_speedup, "energy": part_energy, "train": part_train}


def _results_dir(args: argparse.Namespace) -> Path | None:
    """Where files go: --results-dir, else benchmarks/results/ (full runs only)."""
    if args.results_dir:
        return Path(args.results_dir)
    return None if args.quick else RESULTS


def _write(args: argparse.Namespace, name: str, text: str) -> Path | None:
    from intensity.output import write_atomic

    folder = _results_dir(args)
    return write_atomic(folder / name, text) if folder else None


def child(args: argparse.Namespace) -> int:
    part = next(p for p in PARTS if p.name == args.part)
    text = RUNNERS[part.name](part, args)
    path = _write(args, f"{part.name}_gpu.txt", text)
    print(text if path is None else f"wrote {path}")
    return 0


# --- entry point ---------------------------------------------------------------------------------

def selected(names: str | None) -> list[Part]:
    if not names:
        return PARTS
    known = {p.name: p for p in PARTS}
    unknown = [n for n in names.split(",") if n not in known]
    if unknown:
        raise SystemExit(f"error: unknown part(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return [known[n] for n in names.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=None, help=f"comma-separated, of: {', '.join(p.name for p in PARTS)}")
    parser.add_argument("--results-dir", default=None, help="where <part>_gpu.txt go (default: benchmarks/results)")
    parser.add_argument("--gpu-spec", default="measured", help="spec for utilization (default: the measured peak)")
    parser.add_argument("--quick", action="store_true", help="fewer models and iterations; write only to --results-dir")
    parser.add_argument("--part", default=None, help=argparse.SUPPRESS)  # internal: run one part (child mode)
    args = parser.parse_args(argv)
    if args.part:
        return child(args)
    parts = selected(args.parts)
    print(f"gpu check: {len(parts)} part(s), limits {sum(p.limit_s for p in parts)} s in all; "
          f"results to {_results_dir(args) or 'stdout only (--quick)'}", flush=True)
    return run_parts(parts, args, lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main())
