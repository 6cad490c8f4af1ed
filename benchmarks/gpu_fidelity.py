"""How well the GPU estimate predicts GPUs it has never seen (issue 18).

Data: timm's published AMP inference throughput (RTX 4090, RTX 5090, RTX PRO 6000 Blackwell Max-Q;
eager and torch.compile), in ../shared/reference/timm/. For each runtime:
- per GPU: the profile fitted on that GPU's CNNs, with family cross-validation (all resnets held
  out together);
- leave one GPU out: fit one profile jointly on the other two (what a datasheet-only GPU gets)
  and predict the third from its datasheet alone (peaks, clocks, SMs, bandwidth); CNNs and
  attention models reported apart;
- the share of measurements that beat the bound (the `trivial`-fusion roofline, what `intensity
  roofline` reports): must be 0; and the share that beat the `inductor`-fusion bound (for
  torch.compile, whose generated kernels fuse chains of pointwise ops that `trivial` counts apart).

`--write-profiles` also writes the shipped profiles (src/intensity/hardware/profiles/).
`--quick` uses 24 models per GPU (what CI runs); the full run takes ~1 h on a 2-core machine the
first time (kernel tables are cached under --cache) and ~2 min after.

    python benchmarks/gpu_fidelity.py [--quick] [--write-profiles] [--runtime eager]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from intensity.analysis.efficiency import CLASSES, EfficiencyProfile
from intensity.explore import fit_device as F
from intensity.hardware import get_spec
from intensity.output import write_atomic

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _results import header, write  # noqa: E402

GPUS = ("rtx4090", "rtx5090", "pro6000maxq")
METRICS = ("models", "spearman", "geomean", "geostd", "within_10", "within_25", "beats_bound", "bound_checked",
           "beats_inductor_bound")


def main() -> None:
    args = _arguments()
    torch.set_num_threads(1)
    start = time.time()
    mode = "quick (24 models per GPU)" if args.quick else "full"
    mode += "; only models already in the kernel-table cache" if args.cached_only else ""
    lines = [header(1, mode),
             f"published tables: {args.published}", ""]
    for runtime in args.runtime:
        lines += _runtime_section(runtime, args)
    lines.append(f"wall time {time.time() - start:.0f} s")
    text = "\n".join(lines)
    print(text)
    write("gpu_fidelity_published.txt", text, args.quick)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="24 models per GPU (CI)")
    parser.add_argument("--published", type=Path, default=ROOT.parent / "shared" / "reference" / "timm")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "intensity" / "kernel-tables")
    parser.add_argument("--runtime", nargs="+", default=["eager", "compiled"], choices=["eager", "compiled"])
    parser.add_argument("--write-profiles", action="store_true")
    parser.add_argument("--cached-only", action="store_true",
                        help="only models whose kernel tables are already in --cache (say so when you report)")
    return parser.parse_args()


def _runtime_section(runtime: str, args: argparse.Namespace) -> list[str]:
    data = {gpu: _samples(gpu, runtime, args) for gpu in GPUS}
    lines = [f"== runtime {runtime}", ""]
    profiles, validations, designs = {}, {}, {}
    for gpu, (cnn, attention, skipped) in data.items():
        spec = get_spec(gpu, "fp16")
        designs[gpu] = F.design(cnn, spec)
        profiles[gpu] = F.fit(designs[gpu], gpu, runtime)
        folds = F.cross_validate(cnn, spec, runtime) if len(cnn) >= 10 else {"models": len(cnn)}
        validations[gpu] = folds
        lines += [f"{gpu}: {len(cnn)} CNNs, {len(attention)} attention models, {len(skipped)} not counted",
                  "  fitted: " + _params(profiles[gpu]),
                  "  family cross-validation (CNNs): " + _metrics(folds)]
    lines += ["", "leave one GPU out (fit on the other two, predict this one from its datasheet):",
              "| GPU | models | " + " | ".join(METRICS[1:]) + " |", "|---" * len(METRICS) + "|---|"]
    worst_lines, held_out = [], {}
    for gpu, (cnn, attention, _) in data.items():
        spec = get_spec(gpu, "fp16")
        transferred = F.transfer({g: d for g, d in designs.items() if g != gpu}, f"{gpu} (datasheet)", runtime)
        worst_lines.append(f"{gpu} left out, joint fit on the others: " + _params(transferred))
        for label, group in (("CNNs", cnn), ("attention", attention)):
            result, worst = _predict(group, spec, transferred, args, runtime)
            lines.append(f"| {gpu} {label} | " + " | ".join(_cell(result.get(k)) for k in METRICS) + " |")
            if label == "CNNs":
                held_out[gpu] = {k: result[k] for k in METRICS[:6] if k in result}
                worst_lines += [f"{gpu}: 10 worst CNNs (measured/estimated images/s; time share tensor/vector/"
                                f"stream)"] + worst
    lines += ["", *worst_lines, ""]
    if args.write_profiles and not args.quick:
        _write_profiles(profiles, designs, runtime, validations, held_out)
        lines.append(f"wrote profiles for {', '.join(profiles)} and transfer-{runtime}.json")
    return lines


def _samples(gpu: str, runtime: str, args: argparse.Namespace):  # noqa: ANN202
    published = F.load_published(args.published, gpu, runtime)
    rows = published.rows
    if args.cached_only:
        rows = [r for r in rows if _cached(args, runtime, r, published.fast_norm)]
    if args.quick:
        rows = sorted(rows, key=lambda r: r.model)
        random.Random(0).shuffle(rows)
        rows = rows[:24]
    samples, failed = F.collect(rows, runtime, args.cache, fast_norm=published.fast_norm,
                                progress=_progress(gpu, runtime))
    groups = F.split_samples(samples)
    return groups["cnn"], groups["attention"], failed


def _cached(args: argparse.Namespace, runtime: str, row, fast_norm: bool = False) -> bool:  # noqa: ANN001
    graph = "deploy-fast-norm" if fast_norm else "deploy"
    return (args.cache / F.CACHE_VERSION / runtime / graph / f"{row.model}@{row.img_size}.json").is_file()


def _progress(gpu: str, runtime: str):  # noqa: ANN202
    last = [time.time()]

    def report(what: str, done: int, total: int | None) -> None:
        if time.time() - last[0] > 10 or done == total:
            last[0] = time.time()
            print(f"progress: {gpu} {what} {done}/{total}", file=sys.stderr, flush=True)

    return report


def _predict(samples, spec, profile: EfficiencyProfile, args, runtime):  # noqa: ANN001, ANN202
    if not samples:
        return {"models": 0}, []
    d = F.design(samples, spec)
    estimated = F.predicted_seconds(d, {p: getattr(profile, p) for p in EfficiencyProfile.PARAMETERS})
    bound = _trivial_bound(samples, spec, args)
    result = F.fidelity(d.measured, estimated, bound)
    result["beats_inductor_bound"] = _beats_inductor_bound(samples, d.measured, bound, spec, args)
    ratio = estimated / d.measured  # seconds: measured images/s over estimated images/s
    worst = np.argsort(-np.abs(np.log(ratio)))[:10]
    return result, [f"  {samples[i].row.model}@{samples[i].row.img_size}: {ratio[i]:.2f} "
                    f"({_mix(samples[i], spec, profile)})" for i in worst]


def _trivial_bound(samples, spec, args) -> np.ndarray:  # noqa: ANN001
    """The bound `intensity roofline --dtype fp16` reports: `trivial`-fused kernels at peak and full
    bandwidth, every float at fp16 (a model.half() graph: no autocast casts or fp32 norms, so never
    above what AMP moves)."""
    bounds = []
    for sample in samples:
        if args.cached_only and not _bound_cached(args, sample.row):
            bounds.append(float("nan"))  # not counted yet: left out of beats_bound (its count is shown)
            continue
        kernels = _bound_kernels(sample.row, args.cache)
        scale = sample.row.batch / F.ANALYSIS_BATCH
        bounds.append(sum(max(f * scale / spec.peak_flops("fp16"), (a * scale + w) / spec.bandwidth)
                          for f, a, w in kernels))
    return np.array(bounds)


def _bound_path(cache: Path, row) -> Path:  # noqa: ANN001
    return cache / F.CACHE_VERSION / "trivial-bound" / f"{row.model}@{row.img_size}.json"


def _bound_cached(args: argparse.Namespace, row) -> bool:  # noqa: ANN001
    return _bound_path(args.cache, row).is_file()


def _bound_kernels(row, cache: Path) -> list:  # noqa: ANN001
    """[flops, activation bytes, weight bytes] per `trivial` kernel at the analysis batch (cached)."""
    from intensity.api import analyze

    path = _bound_path(cache, row)
    if path.is_file():
        return json.loads(path.read_text())
    report = analyze(f"timm:{row.model}", batch=F.ANALYSIS_BATCH, dtype="fp16", fusion="trivial",
                     input_shape=(3, row.img_size, row.img_size), deploy=True)
    kernels = [[k.flops, k.bytes - k.weight_bytes, k.weight_bytes] for k in report.kernels]
    write_atomic(path, json.dumps(kernels), option="--cache")
    return kernels


def _beats_inductor_bound(samples, measured: np.ndarray, trivial: np.ndarray, spec, args) -> float:  # noqa: ANN001
    """Share of measurements faster than the `inductor`-fusion bound (torch.compile's). That bound
    is never above the `trivial` one, so only the models that beat `trivial` need counting again."""
    beaten = 0
    for sample, seconds, upper in zip(samples, measured, trivial):
        if np.isfinite(upper) and seconds < upper and seconds < _inductor_bound(sample.row, spec, args.cache):
            beaten += 1
    return beaten / len(samples) if len(samples) else 0.0


def _inductor_bound(row, spec, cache: Path) -> float:  # noqa: ANN001
    """Seconds per batch of `row`'s model under `inductor` fusion at peak and full bandwidth (cached)."""
    from intensity.api import analyze

    path = cache / F.CACHE_VERSION / "inductor-bound" / f"{row.model}@{row.img_size}@{row.batch}.json"
    if path.is_file():
        kernels = json.loads(path.read_text())
    else:
        report = analyze(f"timm:{row.model}", batch=row.batch, dtype="fp16", fusion="inductor",
                         input_shape=(3, row.img_size, row.img_size), deploy=True)
        kernels = [[k.flops, k.bytes] for k in report.kernels]
        write_atomic(path, json.dumps(kernels), option="--cache")
    return sum(max(f / spec.peak_flops("fp16"), b / spec.bandwidth) for f, b in kernels)


def _mix(sample, spec, profile: EfficiencyProfile) -> str:  # noqa: ANN001
    from intensity.analysis.efficiency import kernel_time

    shares = dict.fromkeys(CLASSES, 0.0)
    for work in sample.table.works(sample.row.batch):
        shares[work.kind] += kernel_time(work, profile, spec, "fp16")
    total = sum(shares.values()) or 1.0
    return "/".join(f"{shares[c] / total:.0%}" for c in CLASSES)


def _write_profiles(profiles: dict, designs: dict, runtime: str, validations: dict, held_out: dict) -> None:
    folder = ROOT / "src" / "intensity" / "hardware" / "profiles"
    folder.mkdir(exist_ok=True)
    for gpu, profile in profiles.items():
        folds = validations[gpu]
        source = (f"fitted to {folds['models']} CNNs of timm's published {gpu} {runtime} table; family "
                  f"cross-validation: {folds.get('within_25', 0):.0%} within 25%, Spearman {folds.get('spearman', 0):.3f}")
        record = {**profile.to_dict(), "source": source, "validation": {"family_cross_validation_cnns": folds}}
        (folder / f"{gpu}-{runtime}.json").write_text(json.dumps(record, indent=2) + "\n")
    transferred = F.transfer(designs, "datasheet", runtime)
    transferred = dataclasses.replace(transferred, validation={"leave_one_gpu_out_cnns": held_out,
                                                               "details": "benchmarks/results/gpu_fidelity_published.txt"})
    (folder / f"transfer-{runtime}.json").write_text(json.dumps(transferred.to_dict(), indent=2) + "\n")


def _params(profile: EfficiencyProfile) -> str:
    return ", ".join(f"{p} {getattr(profile, p):.3g}" for p in EfficiencyProfile.PARAMETERS)


def _metrics(result: dict) -> str:
    return ", ".join(f"{k} {_cell(result.get(k))}" for k in METRICS if k in result)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
