"""The survey of seed 003 section 3 on published data: timm's ImageNet accuracies joined with its
RTX 4090 AMP inference benchmark.

utilization = images/s x flops per image / the device's fp16 peak (seed 003 Eqn 1), with flops
per image from our own analysis of each architecture at the benchmark's batch and image size
(timm's GMACs x 2 where our analysis fails). Our analysis also gives each model's intensity, split
above/below the device's op:byte (Fig. 2a), and, for the low-intensity ones, the predicted effect
of folding by f (Fig. 2b). Analyses are cached in a results store, so a rerun only analyses what
is new; models that timm cannot build offline or that fail analysis are listed, not dropped.
"""
from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from intensity.explore.pareto import nondominated
from intensity.explore.store import Store, check_accuracy, new_row
from intensity.progress import Progress, notify

BENCHMARKS = {"rtx4090": "benchmark-infer-amp-nchw-pt291-cu128-4090.csv",
              "rtx5090": "benchmark-infer-amp-nchw-pt291-cu130-5090.csv"}
PAIRS = (("images_per_s", "top1"), ("images_per_s", "utilization"), ("utilization", "top1"))
SURVEY_SPACE = {"name": "survey", "source": "timm", "dtype": "fp16"}


@dataclass
class SurveyModel:
    name: str
    img_size: int
    top1: float
    images_per_s: float
    batch: int
    gmacs: float  # timm's, per image
    flops_per_image: float = 0.0
    flops_source: str = ""  # ours or timm
    intensity: float | None = None
    utilization: float = 0.0
    above_op_byte: bool | None = None
    error: str = ""
    fold: dict | None = None  # predicted folding effect (f, intensity, utilization, speedup)


@dataclass
class Survey:
    device: str
    op_byte: float
    peak_flops: float
    models: list[SurveyModel]
    frontiers: dict[str, list[str]]  # 'x~y' -> names on that frontier
    on_all: list[str]
    failed: list[SurveyModel]
    split: dict[str, dict]  # above/below op:byte: count, mean utilization
    notes: list[str] = field(default_factory=list)


def load_published(directory: Path, device: str = "rtx4090") -> list[SurveyModel]:
    """timm benchmark rows joined with the best top-1 of the same architecture and image size."""
    if device not in BENCHMARKS:
        raise ValueError(f"no timm benchmark for {device!r}; choose one of {', '.join(BENCHMARKS)}")
    results, bench = directory / "results-imagenet.csv", directory / BENCHMARKS[device]
    for path in (results, bench):
        if not path.is_file():
            raise ValueError(f"{path} is missing; give --data, the folder of timm's results files")
    best: dict[tuple[str, int], float] = {}
    for row in _records(results, RESULTS_COLUMNS, "results-imagenet.csv"):
        key = (row["model"].split(".")[0], _value(int, row, "img_size", results))
        top1 = _value(float, row, "top1", results)
        check_accuracy(top1, f"{row['model']} in {results}")
        best[key] = max(best.get(key, 0.0), top1)
    models = []
    for row in _records(bench, BENCH_COLUMNS, BENCHMARKS[device]):
        key = (row["model"], _value(int, row, "infer_img_size", bench))
        if key in best:
            models.append(SurveyModel(key[0], key[1], best[key],
                                      _value(float, row, "infer_samples_per_sec", bench),
                                      _value(int, row, "infer_batch_size", bench),
                                      _value(float, row, "infer_gmacs", bench)))
    return models


RESULTS_COLUMNS = ("model", "img_size", "top1")
BENCH_COLUMNS = ("model", "infer_img_size", "infer_samples_per_sec", "infer_batch_size", "infer_gmacs")


def _records(path: Path, columns: Sequence[str], kind: str) -> list[dict]:
    """A timm CSV's rows, refusing an undecodable file or one that lacks a needed column."""
    try:
        rows = csv.DictReader(path.read_text(encoding="utf-8").splitlines())
        header = rows.fieldnames or []
        records = list(rows)
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{path} is not a readable CSV ({type(error).__name__}: {str(error)[:80]}); "
                         f"give timm's {kind}") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"{path} lacks column {', '.join(missing)}; expected timm's {kind} columns "
                         f"{', '.join(columns)}")
    return records


def _value(kind: type, row: dict, column: str, path: Path) -> object:
    try:
        return kind(row[column])
    except (TypeError, ValueError):
        raise ValueError(f"{path}: model {row.get('model')!r} has {column} {row.get(column)!r}, not "
                         f"a {kind.__name__}; give timm's unmodified results files") from None


def _point(model: SurveyModel) -> str:
    return f"{model.name}@{model.img_size}"


def survey_rows(result: Survey) -> list[dict]:
    """One flat record per model: its figures, intensity side, frontier marks (T = throughput-accuracy,
    U = throughput-utilization, A = utilization-accuracy; '.' = not on it) and predicted folding."""
    return [_survey_row(m, result.frontiers) for m in result.models]


def _survey_row(model: SurveyModel, frontiers: dict[str, list[str]]) -> dict:
    point = _point(model)
    return {"model": point, "top1": model.top1, "images_per_s": model.images_per_s,
            "utilization": model.utilization, "intensity": model.intensity,
            "side": {True: "above", False: "below", None: "?"}[model.above_op_byte],
            "frontiers": "".join("TUA"[i] if point in v else "." for i, v in enumerate(frontiers.values())),
            "fold": _fold_text(model.fold)}


def _fold_text(fold: dict | None) -> str:
    if not fold:
        return ""
    return fold.get("error") or (f"f={fold['f']}: x{fold['speedup']:.2f}, util "
                                 f"{fold['utilization_before']:.2f}->{fold['utilization_after']:.2f}")


def analyse(models: Sequence[SurveyModel], store: Store, spec: object, device_key: str,
            progress: Progress | None = None) -> None:
    """Fill each model's flops and intensity from the store, analysing (and storing) the rest."""
    cached = {r.point: r.metrics for r in store.rows(device=device_key, evaluator="analysis")}
    for count, model in enumerate(models, start=1):
        point = _point(model)
        if point not in cached:
            cached[point] = _analysis(model, spec)
            store.add([new_row(store.space, point, model.batch, "fp16", device_key, "analysis",
                               cached[point])])
        _apply(model, cached[point])
        notify(progress, "analysing timm models", count, len(models))


def _analysis(model: SurveyModel, spec: object) -> dict:
    from intensity.api import analyze

    try:
        report = analyze(f"timm:{model.name}", batch=model.batch, dtype="fp16", device=spec,
                         input_shape=(3, model.img_size, model.img_size))
    except Exception as error:  # noqa: BLE001 (listed in the survey, never dropped silently)
        return {"error": f"{type(error).__name__}: {str(error)[:200]}"}
    totals = report.totals
    return {"flops": totals.flops, "bytes": totals.bytes, "intensity": totals.intensity,
            "params": totals.params, "uncounted": [u.op for u in report.uncounted]}


def _apply(model: SurveyModel, metrics: dict) -> None:
    if "error" in metrics:
        model.error = metrics["error"]
        model.flops_per_image, model.flops_source = 2e9 * model.gmacs, "timm"
        return
    model.flops_per_image, model.flops_source = metrics["flops"] / model.batch, "ours"
    model.intensity = metrics["intensity"]


def survey(directory: Path, store: Store, *, device: str = "rtx4090", limit: int | None = None,
           fold_f: int = 4, fold_count: int = 0, progress: Progress | None = None) -> Survey:
    """The joined, analysed survey with its frontiers, intensity split and folding predictions."""
    from intensity.hardware import get_spec

    spec = get_spec(device, "fp16")
    peak, op_byte = spec.peak_flops("fp16"), spec.op_byte("fp16")
    models = load_published(directory, device)[:limit] if limit else load_published(directory, device)
    analyse(models, store, spec, spec.key, progress)
    for model in models:
        model.utilization = model.images_per_s * model.flops_per_image / peak
        model.above_op_byte = None if model.intensity is None else model.intensity >= op_byte
    frontiers = {f"{x}~{y}": _front(models, x, y) for x, y in PAIRS}
    on_all = sorted(set.intersection(*(set(v) for v in frontiers.values())))
    _fold(models, store, spec, fold_f, fold_count, op_byte, progress)
    return Survey(spec.key, op_byte, peak, models, frontiers, on_all,
                  [m for m in models if m.error], _split(models))


def _front(models: Sequence[SurveyModel], x: str, y: str) -> list[str]:
    values = np.array([[getattr(m, x), getattr(m, y)] for m in models]) if models else np.zeros((0, 2))
    return [_point(models[i]) for i in nondominated(values, [True, True])]


def _split(models: Sequence[SurveyModel]) -> dict[str, dict]:
    groups = {"above op:byte": [m for m in models if m.above_op_byte is True],
              "below op:byte": [m for m in models if m.above_op_byte is False]}
    return {name: {"models": len(group),
                   "mean_utilization": float(np.mean([m.utilization for m in group])) if group else None,
                   "median_intensity": float(np.median([m.intensity for m in group])) if group else None}
            for name, group in groups.items()}


def _fold(models, store, spec, f, count, op_byte, progress) -> None:  # noqa: ANN001
    """Predicted folding (seed 000, Fig. 2b arrows) for the `count` lowest-intensity models."""
    if count <= 0:
        return
    low = sorted((m for m in models if m.above_op_byte is False), key=lambda m: m.intensity)[:count]
    cached = {r.point: r.metrics for r in store.rows(device=spec.key, evaluator=f"fold{f}")}
    for done, model in enumerate(low, start=1):
        point = _point(model)
        if point not in cached:
            cached[point] = _fold_one(model, spec, f)
            store.add([new_row(store.space, point, model.batch, "fp16", spec.key, f"fold{f}", cached[point])])
        model.fold = cached[point]
        notify(progress, f"predicting folding f={f}", done, len(low))


def _fold_one(model: SurveyModel, spec: object, f: int) -> dict:
    from intensity.analysis.folding import predict_folding

    try:
        (result,) = predict_folding(f"timm:{model.name}", [f], batch=model.batch, device=spec,
                                    input_shape=(3, model.img_size, model.img_size))
    except Exception as error:  # noqa: BLE001 (reported with the model)
        return {"f": f, "error": f"{type(error).__name__}: {str(error)[:200]}"}
    return {"f": f, "intensity_after": result.intensity_after, "speedup": result.speedup,
            "utilization_before": result.utilization_before, "utilization_after": result.utilization_after}
