"""The survey of seed 003 section 3 on published data: timm's ImageNet accuracies joined with its
RTX 4090 AMP inference benchmark.

utilization = images/s x flops per image / the device's fp16 peak (seed 003 Eqn 1), with flops
per image from our own analysis of each architecture at the benchmark's batch and image size
(timm's GMACs x 2 where our analysis fails). Our analysis also gives each model's intensity, split
above/below the device's op:byte (Fig. 2a), and, for the low-intensity ones, the predicted effect
of folding by f (Fig. 2b). Analyses are cached in a results store, so a rerun only analyses what
is new; models that timm cannot build offline or that fail analysis are listed, not dropped.

Beside each measurement, the bound (the waterline of our kernels at the device's peak: never beaten
by a correct measurement) and the estimate (analysis/efficiency.py: what the `runtime`, eager or
compiled, will likely measure, under the device's efficiency profile or a `profile` file), and
how the estimates compare with the measurements. With `runtime` compiled the measurements are
timm's torch.compile ("dynamo") table. The store keeps each model's kernel works per runtime, so
another profile costs no new analysis; a store written before estimates gets the missing pieces
computed on first use.
"""
from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from intensity.explore.pareto import nondominated
from intensity.explore.store import Row, Store, check_accuracy, new_row
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
    bound_images_per_s: float | None = None  # the waterline's: never beaten by a correct measurement
    bound_utilization: float | None = None
    estimate_images_per_s: float | None = None  # what the runtime will likely measure
    estimate_utilization: float | None = None
    estimate_error: str = ""  # why there is no estimate (the runtime's kernels could not be counted)


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
    runtime: str = "eager"  # the estimate's, and the measurements' (eager or torch.compile table)
    profile: str = ""  # the estimate's efficiency profile
    profile_source: str = ""  # how that profile was fitted
    fidelity: dict = field(default_factory=dict)  # measured vs estimated (explore.fit_device.fidelity)


def benchmark_file(device: str, runtime: str = "eager") -> str:
    """The name of timm's benchmark table of `device` for `runtime` (compiled: the dynamo one)."""
    from intensity.analysis.efficiency import check_runtime
    from intensity.explore.fit_device import PUBLISHED

    check_runtime(runtime)
    if device not in BENCHMARKS or (device, runtime) not in PUBLISHED:
        raise ValueError(f"no timm benchmark for {device!r}; choose one of {', '.join(BENCHMARKS)}")
    return BENCHMARKS[device] if runtime == "eager" else PUBLISHED[(device, runtime)]


def load_published(directory: Path, device: str = "rtx4090", runtime: str = "eager") -> list[SurveyModel]:
    """timm benchmark rows (of `runtime`'s table) joined with the best top-1 of the same
    architecture and image size."""
    results, bench = directory / "results-imagenet.csv", directory / benchmark_file(device, runtime)
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
    for row in _records(bench, BENCH_COLUMNS, bench.name):
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
    """images_per_s and utilization are timm's measurement; bound_* and estimate_* ours (last, so
    the first columns stay those of surveys before estimates)."""
    point = _point(model)
    ratio = model.images_per_s / model.estimate_images_per_s if model.estimate_images_per_s else None
    return {"model": point, "top1": model.top1, "images_per_s": model.images_per_s,
            "utilization": model.utilization, "intensity": model.intensity,
            "side": {True: "above", False: "below", None: "?"}[model.above_op_byte],
            "frontiers": "".join("TUA"[i] if point in v else "." for i, v in enumerate(frontiers.values())),
            "fold": _fold_text(model.fold), "bound_images_per_s": model.bound_images_per_s,
            "estimate_images_per_s": model.estimate_images_per_s, "measured_per_estimate": ratio,
            "bound_utilization": model.bound_utilization, "estimate_utilization": model.estimate_utilization}


def _fold_text(fold: dict | None) -> str:
    if not fold:
        return ""
    return fold.get("error") or (f"f={fold['f']}: x{fold['speedup']:.2f}, util "
                                 f"{fold['utilization_before']:.2f}->{fold['utilization_after']:.2f}")


ANALYSIS_KEYS = ("flops", "intensity", "latency_s")  # what a cached analysis needs (else: recounted)


def analyse(models: Sequence[SurveyModel], store: Store, spec: object, device_key: str,
            progress: Progress | None = None) -> None:
    """Fill each model's flops, intensity and bound from the store, analysing (and storing) the
    rest, and again those cached before the bound was stored."""
    cached = {(r.point, r.batch): r for r in store.rows(device=device_key, evaluator="analysis")}
    for count, model in enumerate(models, start=1):
        point, row = _point(model), cached.get((_point(model), model.batch))
        if row is None or not _complete(row.metrics, ANALYSIS_KEYS):
            row = _stored(store, row, new_row(store.space, point, model.batch, "fp16", device_key, "analysis",
                                              _analysis(model, spec)))
        _apply(model, row.metrics, spec.peak_flops("fp16"))
        notify(progress, "analysing timm models", count, len(models))


def _complete(metrics: dict, keys: Sequence[str]) -> bool:
    """A cached record that failed (an error, kept), or that holds every key needed."""
    return "error" in metrics or all(isinstance(metrics.get(k), (int, float)) for k in keys)


def _stored(store: Store, old: Row | None, new: Row) -> Row:
    """Add `new`, or replace `old`'s metrics with it (a record cached by an older version)."""
    if old is None:
        store.add([new])
    else:
        store.update([old.with_metrics(new.metrics)])
    return new


def _analysis(model: SurveyModel, spec: object) -> dict:
    from intensity.analysis.roofline import waterline
    from intensity.api import analyze

    try:
        report = analyze(f"timm:{model.name}", batch=model.batch, dtype="fp16", device=spec,
                         input_shape=(3, model.img_size, model.img_size))
    except Exception as error:  # noqa: BLE001 (listed in the survey, never dropped silently)
        return {"error": f"{type(error).__name__}: {str(error)[:200]}"}
    totals = report.totals
    line = waterline(report.kernels, spec.peak_flops("fp16"), spec.bandwidth)
    return {"flops": totals.flops, "bytes": totals.bytes, "intensity": totals.intensity,
            "params": totals.params, "uncounted": [u.op for u in report.uncounted], "latency_s": line.latency}


def _apply(model: SurveyModel, metrics: dict, peak: float) -> None:
    if "error" in metrics:
        model.error = metrics["error"]
        model.flops_per_image, model.flops_source = 2e9 * model.gmacs, "timm"
        return
    model.flops_per_image, model.flops_source = metrics["flops"] / model.batch, "ours"
    model.intensity = metrics["intensity"]
    latency = metrics["latency_s"]
    model.bound_images_per_s = model.batch / latency if latency else None
    model.bound_utilization = metrics["flops"] / peak / latency if latency else None


def estimate_models(models: Sequence[SurveyModel], store: Store, spec: object, runtime: str, profile: object,
                    progress: Progress | None = None) -> None:
    """Each analysed model's estimate under `profile`, from the kernel works the store keeps for
    `runtime` (counted, and stored, where missing or unreadable)."""
    label = f"works:{runtime}"
    cached = {(r.point, r.batch): r for r in store.rows(device=spec.key, evaluator=label)}
    todo = [m for m in models if not m.error]
    for count, model in enumerate(todo, start=1):
        row = cached.get((_point(model), model.batch))
        works = None if row is None else _readable_works(row.metrics)
        if works is None:
            row = _stored(store, row, new_row(store.space, _point(model), model.batch, "fp16", spec.key, label,
                                              _count_works(model, runtime)))
            works = _readable_works(row.metrics)
        _apply_estimate(model, works, row.metrics, profile, spec)
        notify(progress, f"estimating ({runtime})", count, len(todo))


def _readable_works(metrics: dict) -> list | None:
    """The stored kernel works ([] for a model whose count failed), or None: count them again."""
    from intensity.analysis.efficiency import works_from_columns

    if "error" in metrics:
        return []
    try:
        return works_from_columns(metrics.get("kernels") or {})
    except ValueError:
        return None


def _count_works(model: SurveyModel, runtime: str) -> dict:
    """The kernels `runtime` launches for the model at its benchmark batch, as stored columns (one
    `kernels` metric, so `intensity results` shows one cell, not a column per field)."""
    from intensity.analysis.efficiency import RUNTIMES, works_to_columns
    from intensity.api import analyze

    launch = RUNTIMES[runtime]
    try:
        report = analyze(f"timm:{model.name}", batch=model.batch, dtype="fp16", fusion=launch.fusion,
                         input_shape=(3, model.img_size, model.img_size))
    except Exception as error:  # noqa: BLE001 (listed in the survey's notes)
        return {"error": f"{type(error).__name__}: {str(error)[:200]}"}
    works = launch(report.kernels)
    return {"kernels": works_to_columns(works), "count": len(works)}


def _apply_estimate(model: SurveyModel, works: list, metrics: dict, profile: object, spec: object) -> None:
    from intensity.analysis.efficiency import estimate

    if not works:
        model.estimate_error = metrics.get("error", "no kernels counted")
        return
    guess = estimate(works, profile, spec, "fp16")
    model.estimate_images_per_s = model.batch / guess.latency
    model.estimate_utilization = guess.efficiency


def compare(models: Sequence[SurveyModel]) -> dict:
    """How the estimates match timm's measurements (and whether any measurement beats the bound):
    explore.fit_device.fidelity over the models that have both."""
    from intensity.explore.fit_device import fidelity

    both = [m for m in models if m.estimate_images_per_s and m.bound_images_per_s and m.images_per_s > 0]
    seconds = np.array([[m.batch / m.images_per_s, m.batch / m.estimate_images_per_s, m.batch / m.bound_images_per_s]
                        for m in both]).reshape(-1, 3)
    found = fidelity(seconds[:, 0], seconds[:, 1], seconds[:, 2])
    return {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in found.items()}  # JSON has no NaN


def survey(directory: Path, store: Store, *, device: str = "rtx4090", limit: int | None = None,
           fold_f: int = 4, fold_count: int = 0, runtime: str = "eager", profile: object = None,
           progress: Progress | None = None) -> Survey:
    """The joined, analysed survey with its frontiers, intensity split and folding predictions, and
    each model's bound and `runtime` estimate (under `profile`: an EfficiencyProfile or a
    fit-device JSON; None: the device's own) beside timm's measurement of that runtime."""
    from intensity.analysis.predict import runtime_profile
    from intensity.hardware import get_spec

    spec = get_spec(device, "fp16")
    chosen = runtime_profile(spec, runtime, profile)
    peak, op_byte = spec.peak_flops("fp16"), spec.op_byte("fp16")
    models = load_published(directory, device, runtime)
    models = models[:limit] if limit else models
    analyse(models, store, spec, spec.key, progress)
    estimate_models(models, store, spec, runtime, chosen, progress)
    for model in models:
        model.utilization = model.images_per_s * model.flops_per_image / peak
        model.above_op_byte = None if model.intensity is None else model.intensity >= op_byte
    frontiers = {f"{x}~{y}": _front(models, x, y) for x, y in PAIRS}
    on_all = sorted(set.intersection(*(set(v) for v in frontiers.values())))
    _fold(models, store, spec, fold_f, fold_count, op_byte, progress)
    fit = compare(models)
    return Survey(spec.key, op_byte, peak, models, frontiers, on_all, [m for m in models if m.error],
                  _split(models), _estimate_notes(models, fit, runtime), runtime, chosen.name, chosen.source, fit)


def _estimate_notes(models: Sequence[SurveyModel], fit: dict, runtime: str) -> list[str]:
    """One line on how the estimates match the measurements; the models without an estimate, and
    any measurement faster than its bound (a bug in the counts, or in the measurement), by name."""
    notes = []
    if fit.get("models"):
        notes.append(f"estimate vs measured ({runtime}, {fit['models']} models): measured/estimated images/s "
                     f"geometric mean {fit['geomean']:.2f}, {fit['within_25']:.0%} within +-25%, "
                     f"{fit['within_10']:.0%} within +-10%")
    missing = [f"{_point(m)}: {m.estimate_error}" for m in models if m.estimate_error]
    if missing:
        notes.append(f"no {runtime} estimate for {len(missing)} models: {'; '.join(missing[:5])}")
    faster = [_point(m) for m in models if m.bound_images_per_s and m.images_per_s > m.bound_images_per_s]
    if faster:
        notes.append(f"{len(faster)} measurements beat their bound (check their counts): {', '.join(faster[:10])}")
    return notes


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
