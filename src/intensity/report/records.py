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


def records_grid(title: str, records: Sequence[Mapping], caption: str = "") -> Grid:
    """One row per record, one column per key (in first-seen order); text columns align left."""
    columns = tuple(dict.fromkeys(key for record in records for key in record))
    rows = [tuple(cell(record.get(c)) for c in columns) for record in records]
    text = tuple(c for c in columns if not all(_numeric(r.get(c)) for r in records))
    return Grid(title, columns, rows, text, caption)


def fields_grid(title: str, fields: Mapping[str, object]) -> Grid:
    """One labelled row per field (a summary)."""
    return Grid(title, ("field", "value"), [(str(k), cell(v)) for k, v in fields.items()], ("field", "value"),
                header=False)


def _numeric(value: object) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def survey_grids(survey: object, rows: Sequence[Mapping]) -> list[Grid]:
    """Seed 003's survey: the models on a frontier (or with a folding prediction), the intensity
    split at op:byte (Fig. 2a) and the models whose analysis failed."""
    shown = [r for r in rows if r["frontiers"] != "..." or r["fold"]]
    split = [{"group": k, **v} for k, v in survey.split.items()]
    failed = [{"model": f"{m.name}@{m.img_size}", "error": m.error} for m in survey.failed]
    title = (f"{len(rows)} models on {survey.device} (op:byte {survey.op_byte:.0f}); frontiers: "
             f"T = throughput-accuracy, U = throughput-utilization, A = utilization-accuracy; "
             f"on all three: {', '.join(survey.on_all) or 'none'}")
    return [records_grid(title, shown), records_grid("split by intensity at op:byte (Fig. 2a)", split),
            records_grid(f"failed analyses ({len(failed)}), utilization from timm's GMACs", failed)]


def epochs_grid(title: str, metrics: Sequence[Mapping]) -> Grid:
    """A training run, one row per epoch: loss, train and validation top-1, throughput."""
    columns = ("epoch", "loss", "train top-1", "val top-1", "images/s")
    rows = [(str(m["epoch"]), f"{m['loss']:.4f}", f"{m['train_acc']:.1%}", f"{m['val_acc']:.1%}",
             f"{m['images_per_s']:.0f}") for m in metrics]
    return Grid(title, columns, rows)
