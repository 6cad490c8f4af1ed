"""Grids of plain records (lists of dicts) and of labelled fields: the tables of commands whose
results are records (a results store, a search, a survey, a training run)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from intensity.report.tables import Grid


def cell(value: object) -> str:
    """A record value as table text: floats with 4 significant digits, None as empty."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


# Sweep rows: the bound's figures (waterline) and the estimate's, labelled as such in table headers.
BOUND_AND_ESTIMATE = {"latency_s": "bound: latency_s", "images_per_s": "bound: images_per_s",
                      "utilization": "bound: utilization", "estimate_latency_s": "estimate: latency_s",
                      "estimate_images_per_s": "estimate: images_per_s",
                      "estimate_utilization": "estimate: utilization", "estimate_runtime": "estimate: runtime",
                      "estimate_profile": "estimate: profile"}


def records_grid(title: str, records: Sequence[Mapping], caption: str = "",
                 labels: Mapping[str, str] | None = None) -> Grid:
    """One row per record, one column per key (in first-seen order), headed by its label in
    `labels` where it has one; text columns align left."""
    keys = tuple(dict.fromkeys(key for record in records for key in record))
    rows = [tuple(cell(record.get(c)) for c in keys) for record in records]
    text = {c for c in keys if not all(_numeric(r.get(c)) for r in records)}
    columns = tuple((labels or {}).get(c, c) for c in keys)
    return Grid(title, columns, rows, tuple(label for c, label in zip(keys, columns) if c in text), caption)


def fields_grid(title: str, fields: Mapping[str, object]) -> Grid:
    """One labelled row per field (a summary)."""
    return Grid(title, ("field", "value"), [(str(k), cell(v)) for k, v in fields.items()], ("field", "value"),
                header=False)


def _numeric(value: object) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


# Survey rows: timm's measurement (images_per_s, utilization) beside our bound and estimate.
SURVEY_COLUMNS = ("model", "top1", "bound_images_per_s", "estimate_images_per_s", "images_per_s",
                  "measured_per_estimate", "bound_utilization", "estimate_utilization", "utilization")
SURVEY_LABELS = {"bound_images_per_s": "bound: images/s", "estimate_images_per_s": "estimate: images/s",
                 "images_per_s": "measured: images/s", "measured_per_estimate": "measured/estimate",
                 "bound_utilization": "bound: utilization", "estimate_utilization": "estimate: utilization",
                 "utilization": "measured: utilization"}


def survey_grids(survey: object, rows: Sequence[Mapping]) -> list[Grid]:
    """Seed 003's survey: the models on a frontier (or with a folding prediction), with the bound,
    the estimate and timm's measurement side by side; how the estimates compare with the
    measurements; the intensity split at op:byte (Fig. 2a) and the models whose analysis failed."""
    shown = [_ordered(r, SURVEY_COLUMNS) for r in rows if r["frontiers"] != "..." or r["fold"]]
    split = [{"group": k, **v} for k, v in survey.split.items()]
    failed = [{"model": f"{m.name}@{m.img_size}", "error": m.error} for m in survey.failed]
    title = (f"{len(rows)} models on {survey.device} (op:byte {survey.op_byte:.0f}); frontiers: "
             f"T = throughput-accuracy, U = throughput-utilization, A = utilization-accuracy; "
             f"on all three: {', '.join(survey.on_all) or 'none'}")
    caption = (f"bound: waterline, never beaten by a correct measurement; estimate: what {survey.runtime} "
               f"PyTorch will likely measure ({survey.profile} profile); measured: timm's {survey.runtime} benchmark")
    return [records_grid(title, shown, caption, labels=SURVEY_LABELS), estimate_fit_grid(survey),
            records_grid("split by intensity at op:byte (Fig. 2a)", split),
            records_grid(f"failed analyses ({len(failed)}), utilization from timm's GMACs", failed)]


def _ordered(record: Mapping, first: Sequence[str]) -> dict:
    """The record with the keys `first` first (bound, estimate and measurement side by side)."""
    return {**{k: record[k] for k in first if k in record}, **record}


def estimate_fit_grid(survey: object) -> Grid:
    """How the survey's estimates match timm's measurements, and whether any beats the bound."""
    fit = survey.fidelity
    rows = {"runtime": survey.runtime, "profile": f"{survey.profile} ({survey.profile_source})",
            "models with bound, estimate and measurement": fit.get("models", 0)}
    if fit.get("models"):
        rows.update({"measured/estimated images/s, geometric mean": fit["geomean"],
                     "geometric std": fit["geostd"], "within +-10%": _share(fit["within_10"]),
                     "within +-25%": _share(fit["within_25"]), "Spearman (measured vs estimated)": fit["spearman"],
                     "measurements beating the bound": _share(fit.get("beats_bound"))})
    return fields_grid(f"estimate vs measured ({survey.runtime})", rows)


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def epochs_grid(title: str, metrics: Sequence[Mapping]) -> Grid:
    """A training run, one row per epoch: loss, train and validation top-1, throughput."""
    columns = ("epoch", "loss", "train top-1", "val top-1", "images/s")
    rows = [(str(m["epoch"]), f"{m['loss']:.4f}", f"{m['train_acc']:.1%}", f"{m['val_acc']:.1%}",
             f"{m['images_per_s']:.0f}") for m in metrics]
    return Grid(title, columns, rows)
