"""Which torchvision / timm CNNs fold, and what folding does to their size, work and intensity.

For each model (built with weights=None / pretrained=False: nothing is downloaded) and f = 2, 4:
whether `fold` succeeds (else its refusal, shortened), the folded/original parameter ratio, the
flops-per-image ratio, and the predicted intensity ratio: mediant intensity (sum flops / sum
bytes) of all kernels under trivial fusion, fp16, the original at batch N and the FoldedCNN at
N / f (the same images per step). Every model runs at its own input shape unless --size is given
(the width rewrite runs on the meta device, so full size costs no compute).

Run: PYTHONPATH=src .venv/bin/python benchmarks/fold_coverage.py [--quick] [--batch 256] [--size 224]
     [--models torchvision:resnet18,timm:efficientnet_b0] [--out FILE]
Full runs write benchmarks/results/fold_coverage_cpu.txt (or --out); --quick (2 models) prints
only. The figures are counts on meta tensors: deterministic, no spread, thread count irrelevant.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, header  # noqa: E402

from intensity import analyze  # noqa: E402
from intensity.models import resolve_model  # noqa: E402
from intensity.transforms.folding import fold, trace  # noqa: E402

TORCHVISION = ["resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "vgg11", "alexnet", "squeezenet1_0",
               "squeezenet1_1", "densenet121", "googlenet", "inception_v3", "mobilenet_v2", "mobilenet_v3_small",
               "mobilenet_v3_large", "mnasnet0_5", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "efficientnet_b0",
               "efficientnet_v2_s", "regnet_x_400mf", "regnet_y_400mf", "convnext_tiny"]
TIMM = ["resnet18", "efficientnet_b0", "mobilenetv3_large_100", "convnext_tiny", "regnetx_002", "ghostnet_100",
        "mixnet_s", "rexnet_100", "dla34", "cspresnet50", "vit_tiny_patch16_224"]
MODELS = [f"torchvision:{n}" for n in TORCHVISION] + [f"timm:{n}" for n in TIMM]
QUICK_MODELS = ["torchvision:resnet18", "timm:efficientnet_b0"]
FACTORS = (2, 4)


def _params(model) -> int:  # noqa: ANN001
    """Parameters of the layers the eval graph uses (GoogLeNet's and Inception's aux heads drop out)."""
    return sum(p.numel() for p in trace(model).parameters())


def _costs(model, batch: int, shape: tuple[int, ...]) -> tuple[float, float]:  # noqa: ANN001
    """(flops per input, mediant intensity) at `batch`, fp16, trivial fusion (a folded input is f images)."""
    totals = analyze(model, batch=batch, input_shape=shape, dtype="fp16", fusion="trivial").totals
    return totals.flops / batch, totals.intensity


def _row(name: str, f: int, module, shape: tuple[int, ...], base: tuple[float, float],  # noqa: ANN001
         batch: int) -> list[str]:
    try:
        result = fold(module, f, shape)
    except ValueError as error:
        return [name, str(f), "no", "", "", "", _short(str(error))]
    flops, intensity = _costs(result.model, batch // f, result.folded_input_shape)
    params = sum(p.numel() for p in result.model.parameters()) / _params(module)
    return [name, str(f), "yes", f"{params:.2f}", f"{flops / f / base[0]:.2f}", f"{intensity / base[1]:.2f}",
            "; ".join(result.notes[1:])]


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256, help="images per step of the original (folded: N / f)")
    parser.add_argument("--size", type=int, default=None, help="H = W for every model (default: the model's own)")
    parser.add_argument("--quick", action="store_true", help="2 models; print only")
    parser.add_argument("--models", default=None)
    parser.add_argument("--out", default=None, help="also write the table to this text file "
                                                     "(full runs: benchmarks/results/fold_coverage_cpu.txt)")
    args = parser.parse_args()
    console = Console(width=190, record=True)
    console.print(header(None, ("quick" if args.quick else "full") + "; deterministic counts, no spread"), markup=False)
    names = (args.models or ",".join(QUICK_MODELS if args.quick else MODELS)).split(",")
    out = args.out or (None if args.quick else str(RESULTS / "fold_coverage_cpu.txt"))
    size = f"{args.size}x{args.size}" if args.size else "each model's own"
    table = Table(title=f"fold coverage: input {size}, batch {args.batch} (folded: {args.batch} / f), fp16, "
                        f"trivial fusion; ratios are folded / original", title_justify="left")
    for column in ("model", "f", "folds", "params x", "flops/image x", "intensity x", "notes / refusal"):
        table.add_column(column, justify="right" if column in ("f", "params x", "flops/image x", "intensity x")
                         else "left")
    started, folded = time.time(), 0
    for index, name in enumerate(names, 1):
        print(f"[{index}/{len(names)}] {name} ...", file=sys.stderr, flush=True)  # progress
        resolved = resolve_model(name)
        shape = (3, args.size, args.size) if args.size else tuple(resolved.input_shape)
        base = _costs(resolved.module, args.batch, shape)
        for f in FACTORS:
            row = _row(f"{name} {'x'.join(map(str, shape[1:]))}", f, resolved.module, shape, base, args.batch)
            folded += row[2] == "yes"
            table.add_row(*row)
    console.print(table)
    console.print(f"{folded} of {len(names) * len(FACTORS)} (model, f) pairs fold; {time.time() - started:.0f} s")
    if out:
        with open(out, "w") as handle:
            handle.write(console.export_text())


if __name__ == "__main__":
    main()
