"""Accuracy evaluators for sweeps and searches.

- `table`: known accuracies from a CSV (columns `point` or `arch` or `index`, and `accuracy`) or a
  JSON file (a list of such records, or NATS-Bench records as in shared/reference/nats/, whose
  accuracy is `top1_last_epoch[split]` of the chosen dataset). A point the table lacks is an error.
- `train`: a short training run of each point (the trainer of intensity.train) on data the user
  gives (an image folder, cifar10:DIR, generated:TASK, video:...), with the space's classes; the
  test top-1 in %. Each point's run directory keeps its checkpoint, so a killed sweep's rerun
  resumes the point it was training and reuses the finished ones. `train_point` trains one point
  from a picklable `TrainJob`: what a sweep runs here or on a Dask worker (explore/sweep.py).
"""
from __future__ import annotations

import csv
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from intensity.explore.spaces import Space, make_space
from intensity.progress import Progress, notify
from intensity.registry import Registry

DEFAULT_SPLIT = "ori-test"


@dataclass(frozen=True)
class TableEvaluator:
    """Accuracy (%) per point, read from a file the user owns."""

    path: Path
    accuracies: dict[str, float]

    @property
    def name(self) -> str:
        return f"table:{self.path.name}"

    def evaluate(self, points: Sequence[str], progress: Progress | None = None) -> dict[str, float]:  # noqa: ARG002
        missing = [p for p in points if p not in self.accuracies]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise KeyError(f"accuracy table {self.path} has no entry for {len(missing)} of "
                           f"{len(points)} points ({shown}); add them, or sweep only the points it "
                           f"covers (--points)")
        return {p: self.accuracies[p] for p in points}

    def known(self) -> list[str]:
        return list(self.accuracies)


@dataclass(frozen=True)
class TrainSettings:
    """What a train evaluator's accuracies depend on (all part of its name in a results store)."""

    data: str
    epochs: int = 5
    lr: float = 1e-3
    batch: int = 32
    per_class: int = 200  # generated: data only
    seed: int = 0


@dataclass(frozen=True)
class TrainJob:
    """What training a point needs, picklable for a Dask worker: the space's spec (not its
    modules), the settings, and the runs folder as an absolute path (a worker may start elsewhere;
    on a multi-machine cluster it must be on a filesystem every worker shares)."""

    spec: dict
    settings: TrainSettings
    runs: str


@dataclass(frozen=True)
class Trained:
    accuracy: float  # test top-1, %
    device: str  # where it trained
    resumed: bool  # the point's run folder had a checkpoint (a finished run is only re-tested)


@dataclass(frozen=True)
class TrainEvaluator:
    """Test top-1 (%) of each point after a short training run; runs are kept under `runs`."""

    space: Space
    settings: TrainSettings
    runs: Path

    @property
    def name(self) -> str:
        s = self.settings
        return f"train:{s.data};epochs={s.epochs};lr={s.lr:g};batch={s.batch};per_class={s.per_class};seed={s.seed}"

    @property
    def job(self) -> TrainJob:
        return TrainJob(self.space.spec, self.settings, str(Path(self.runs).resolve()))

    def evaluate(self, points: Sequence[str], progress: Progress | None = None) -> dict[str, float]:
        accuracies = {}
        for done, point in enumerate(points):
            notify(progress, f"training {self.space.model_name(point)}", done, len(points))
            accuracies[point] = train_point(self.job, point, progress=progress).accuracy
        notify(progress, "training points", len(points), len(points))
        return accuracies


# Training seeds torch's process-wide RNG: a Dask worker with several threads (or several in-process
# workers) trains one point at a time, so each point's weights stay reproducible.
_ONE_AT_A_TIME = threading.Lock()


def run_folder(job: TrainJob, label: str) -> Path:
    """The point's run folder: named by a hash of its model name (grid points hold commas)."""
    return Path(job.runs) / f"point-{hashlib.sha1(label.encode()).hexdigest()[:12]}"


def train_point(job: TrainJob, point: str, device: str | None = None,
                progress: Progress | None = None) -> Trained:
    """Train `point` from fresh weights (seeded), or continue its run folder's checkpoint (a killed
    sweep); a finished run is only tested again. The folder is locked while training, so two
    sweeps never write one run. `device`: where to train (None: the trainer's default)."""
    import torch

    from intensity.output import locked
    from intensity.train.loop import TrainConfig, train

    space, s = make_space(**job.spec), job.settings
    label = space.model_name(point)
    out = run_folder(job, label)
    with _ONE_AT_A_TIME, locked(out, "run folder", handing_on=True):  # to train()'s own lock
        resume = (out / "last.pt").is_file()
        if not resume:
            _clear_unfinished(out)
        config, options, used = _on_device(TrainConfig(
            label, s.data, str(out), epochs=s.epochs, batch=s.batch, preset="game", lr=s.lr, seed=s.seed,
            per_class=s.per_class, curriculum=False, resume=resume), device)
        torch.manual_seed(s.seed)  # the same initial weights for a point on every run and worker
        original = space.build(point, meta=False), space.input_shape, space.num_classes
        result = train(config, progress, original=original, **options)
    return Trained(result.test_acc * 100, used, resume)


# What a run killed before its first checkpoint landed can leave: a half-written checkpoint
_UNFINISHED = {"last.tmp", "metrics.csv"}


def _clear_unfinished(out: Path) -> None:
    """A point's run folder without last.pt holds no finished epoch: empty it so the point starts
    afresh (the trainer refuses a non-empty folder). Anything else in it is the user's: refuse."""
    if not out.is_dir():
        return
    found = {entry.name for entry in out.iterdir()}
    if found - _UNFINISHED:
        raise ValueError(f"run folder {out} holds {', '.join(sorted(found - _UNFINISHED))} but no last.pt; "
                         f"move them away, or give the sweep another `runs` folder")
    for name in found:
        (out / name).unlink()


def _on_device(config: object, device: str | None) -> tuple[object, dict, str]:
    """(config, extra train() arguments, device used): the worker's pinned `device` goes into the
    trainer's config; None leaves the trainer's default (the GPU when present, else the CPU)."""
    import dataclasses

    if device is None:
        from intensity.train.device import placement

        return config, {}, str(placement(None, None, 0).device)
    return dataclasses.replace(config, device=device), {}, device


def train_settings(data: str | None = None, epochs: int | None = None, lr: float | None = None,
                   per_class: int | None = None, runs: str | Path | None = None) -> TrainSettings | None:
    """The train evaluator's settings, or None when none was given (so make_evaluator can refuse
    them without the train evaluator instead of ignoring them)."""
    from intensity.train.loop import check_lr

    given = {"--data": data, "--epochs": epochs, "--lr": lr, "--per-class": per_class, "--runs": runs}
    if all(v is None for v in given.values()):
        return None
    if data is None:
        raise ValueError(f"{', '.join(k for k, v in given.items() if v is not None)} need --data and "
                         f"--evaluator train; give --data DIR|generated:TASK|cifar10:DIR")
    check_lr(lr, "give e.g. 1e-3")
    defaults = TrainSettings(data)
    return TrainSettings(data, epochs or defaults.epochs, lr or defaults.lr, per_class=per_class or defaults.per_class)


# kind -> builder(space, table, split, train, runs); the docstring's first line is its help.
# Adding an evaluator is one decorated function.
EVALUATORS: Registry[Callable[..., "TableEvaluator | TrainEvaluator"]] = Registry(
    "evaluator", "choose table (with --table) or train (with --data)")


def make_evaluator(kind: str | None, space: Space, table: str | Path | None = None,
                   split: str | None = None, train: TrainSettings | None = None,
                   runs: str | Path | None = None) -> TableEvaluator | TrainEvaluator | None:
    if kind is None:
        if table is not None:
            raise ValueError("an accuracy table needs `evaluator` table (--evaluator table)")
        if train is not None:
            raise ValueError("training settings need `evaluator` train (--evaluator train)")
        return None
    return EVALUATORS[kind](space, table, split, train, runs)


@EVALUATORS.register("table")
def _table(space: Space, table: str | Path | None, split: str | None, train: TrainSettings | None,
           runs: str | Path | None) -> TableEvaluator:  # noqa: ARG001 (runs: the train evaluator's)
    """known accuracies from a CSV/JSON file (--table)"""
    if train is not None:
        raise ValueError("training settings (`data`, `epochs` ...) need `evaluator` train (--evaluator train)")
    if table is None:
        raise ValueError("the table evaluator needs a file: give --table accuracies.csv (or .json)")
    return TableEvaluator(Path(table), load_table(Path(table), space, split))


@EVALUATORS.register("train")
def _train(space: Space, table: str | Path | None, split: str | None, train: TrainSettings | None,
           runs: str | Path | None) -> TrainEvaluator:  # noqa: ARG001 (split: the table evaluator's)
    """a short training run of each point on --data"""
    if table is not None:
        raise ValueError("`table` is for the table evaluator; the train evaluator takes `data`")
    if train is None or runs is None:
        raise ValueError("the train evaluator needs `data` (an image folder, cifar10:DIR, generated:TASK "
                         "...) with the space's classes, and a directory for the runs")
    return TrainEvaluator(space, train, Path(runs))


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
