"""Accuracy evaluators for sweeps and searches.

- `table`: known accuracies from a CSV (columns `point` or `arch` or `index`, and `accuracy`) or a
  JSON file (a list of such records, or NATS-Bench records as in shared/reference/nats/, whose
  accuracy is `top1_last_epoch[split]` of the chosen dataset). A point the table lacks is an error.
- `train`: short training runs; not available until the training issue's trainer lands.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from intensity.explore.spaces import Space

EVALUATORS = ("table", "train")
DEFAULT_SPLIT = "ori-test"


@dataclass(frozen=True)
class TableEvaluator:
    """Accuracy (%) per point, read from a file the user owns."""

    path: Path
    accuracies: dict[str, float]

    @property
    def name(self) -> str:
        return f"table:{self.path.name}"

    def evaluate(self, points: Sequence[str]) -> dict[str, float]:
        missing = [p for p in points if p not in self.accuracies]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise KeyError(f"accuracy table {self.path} has no entry for {len(missing)} of "
                           f"{len(points)} points ({shown}); add them, or sweep only the points it "
                           f"covers (--points)")
        return {p: self.accuracies[p] for p in points}

    def known(self) -> list[str]:
        return list(self.accuracies)


def make_evaluator(kind: str | None, space: Space, table: str | Path | None = None,
                   split: str | None = None) -> TableEvaluator | None:
    if kind is None:
        if table is not None:
            raise ValueError("an accuracy table needs `evaluator` table (--evaluator table)")
        return None
    if kind == "train":
        raise ValueError("the train evaluator is not available yet: it needs the trainer of the "
                         "training issue (issue 9), which has not landed; use --evaluator table "
                         "with a file of known accuracies")
    if kind != "table":
        raise ValueError(f"unknown evaluator {kind!r}; choose one of {', '.join(EVALUATORS)}")
    if table is None:
        raise ValueError("the table evaluator needs a file: give --table accuracies.csv (or .json)")
    return TableEvaluator(Path(table), load_table(Path(table), space, split))


def load_table(path: Path, space: Space, split: str | None = None) -> dict[str, float]:
    """{canonical point: accuracy} from a CSV or JSON file. `split` (default ori-test) picks the
    evaluation split of NATS-Bench records; given for a table without them, it is refused."""
    if path.is_dir():
        raise ValueError(f"accuracy table {path} is a directory; give a CSV or JSON file")
    if not path.is_file():
        raise ValueError(f"accuracy table {path} does not exist; give a CSV or JSON file")
    try:
        records = json.loads(path.read_text()) if path.suffix.lower() == ".json" else \
            list(csv.DictReader(path.read_text().splitlines()))
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"accuracy table {path} cannot be read ({error}); give a CSV with columns "
                         f"point,accuracy or a JSON list of records") from None
    if not isinstance(records, list):
        raise ValueError(f"accuracy table {path} must hold a list of records")
    if not records:
        raise ValueError(f"table {path} has no records; give a CSV with a header and rows "
                         f"point,accuracy (or a JSON list of records)")
    if split is not None and not any(isinstance(r, dict) and "datasets" in r for r in records):
        raise ValueError(f"--split applies only to NATS-Bench JSON records, and {path} has none; "
                         f"drop --split")
    entries = [_entry(record, space, path, split or DEFAULT_SPLIT) for record in records]
    for number, (point, accuracy) in enumerate(entries, start=1):
        if not 0 <= accuracy <= 100:
            raise ValueError(f"accuracy table {path}: record {number} ({point}) has accuracy {accuracy}, "
                             f"outside 0..100; give top-1 accuracy in percent")
    return dict(entries)


def _entry(record: dict, space: Space, path: Path, split: str) -> tuple[str, float]:
    if not isinstance(record, dict):
        raise ValueError(f"accuracy table {path}: record {record!r} is not an object with point/accuracy")
    point = record.get("point") or record.get("arch") or record.get("index")
    if point is None:
        raise ValueError(f"accuracy table {path}: a record lacks a point (or arch/index) column: {record}")
    if "datasets" in record:  # a NATS-Bench record
        return space.canonical(str(point)), _nats_accuracy(record, space, path, split)
    try:
        return space.canonical(str(point)), float(record["accuracy"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"accuracy table {path}: the record for {point} needs a numeric accuracy "
                         f"column (in a CSV, quote points that contain commas)") from None


def _nats_accuracy(record: dict, space: Space, path: Path, split: str) -> float:
    dataset = space.spec.get("dataset", "cifar10")
    try:
        return float(record["datasets"][dataset]["top1_last_epoch"][split])
    except (KeyError, TypeError):
        raise ValueError(f"accuracy table {path}: record {record.get('arch')} has no "
                         f"{dataset} top-1 for split {split!r}") from None
