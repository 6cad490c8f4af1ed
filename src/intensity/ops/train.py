"""Operations of the data and training commands: make-dataset, train, evaluate (seed 000 4.2,
5.1, 5.4, App. A) and comm-model (seed 002 ch. 3). Typed request in, typed result out.

A run directory and a dataset directory are locked while written (a second writer gets a clear
error); an output never lands on one of the command's inputs (its data, its teacher, its
checkpoints); a dataset is written beside its target and renamed into place, so a failed
make-dataset leaves nothing.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intensity.ops._base import ModelRequest, OpResult, Progress, Settings, resolve_spec
from intensity.output import check_output, locked, resolved_target


def data_files(spec: str | None) -> list[str]:
    """The folders and files a --data spec reads (DIR, cifar10:DIR, video:VIDEO,CSV); none for
    generated:TASK. Outputs must never land on them."""
    if not spec or spec.startswith("generated:"):
        return []
    kind, sep, rest = spec.partition(":")
    if sep and kind in ("cifar10", "cifar100"):
        return [rest]
    if sep and kind == "video":
        return [part for part in rest.split(",") if part]
    return [spec]


@contextlib.contextmanager
def _locked_directory(path: str | Path, what: str) -> Iterator[Path]:
    """Hold `path`'s lock while the block writes it; when the block leaves no `path` behind (it
    failed before writing), the lock file goes too, so a failed command leaves no file."""
    held = False
    try:
        with locked(path, what) as target:
            held = True
            yield target
    finally:
        if held and not Path(path).exists():
            target = resolved_target(path)
            target.with_name(f".{target.name}.lock").unlink(missing_ok=True)


def _drop_lock_without_directory(path: str | Path) -> None:
    """A run that failed before creating its directory leaves no lock file behind either."""
    if not Path(path).exists():
        target = resolved_target(path)
        target.with_name(f".{target.name}.lock").unlink(missing_ok=True)


# --- make-dataset ---------------------------------------------------------------------------------
@dataclass
class DatasetResult(OpResult):
    out: str = ""
    manifest: dict = field(default_factory=dict)

    @property
    def images(self) -> int:
        return sum(sum(counts.values()) for counts in self.manifest["counts"].values())

    def to_dict(self) -> dict[str, Any]:
        return {"out": self.out, "images": self.images, **self.manifest}

    def to_rows(self) -> list[dict[str, Any]]:
        return [{"split": split, "class": label, "images": n}
                for split, counts in self.manifest["counts"].items() for label, n in counts.items()]

    def grids(self) -> list[Any]:
        from intensity.report.records import records_grid

        title = f"wrote {self.images} images of {len(self.manifest['classes'])} classes to {self.out}"
        per_split = [{"split": s, "images": sum(c.values())} for s, c in self.manifest["counts"].items()]
        return [records_grid(title, per_split)]


def run_make_dataset(task: str, out: str | Path, per_class: int = 1000, eval_per_class: int | None = None,
                     seed: int = 0, progress: Progress | None = None) -> DatasetResult:
    """Render a synthetic game-text dataset (App. A.1) as image folders at the model's resolution:
    train/ val/ test/ and manifest.json in `out` (new or empty)."""
    from intensity.data.folders import check_empty_dir, write_image_folder
    from intensity.data.game_text import game_splits
    from intensity.models import model_entry

    target = check_output(out, option="--out", directory=True)
    check_empty_dir(Path(out))
    shape = model_entry(task).input_shape
    with _locked_directory(out, "dataset directory"):
        check_empty_dir(Path(out))  # again, under the lock: another writer may have just finished
        if progress:
            progress(f"rendering {task}", 0, None)
        splits = game_splits(task, shape[1:], per_class, eval_per_class, seed)
        parts = {"train": splits.train, "val": splits.val, "test": splits.test}
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            manifest = write_image_folder(parts, partial, {"task": task, "seed": seed, "size": list(shape[1:])})
            os.replace(partial, target)  # an empty target directory is replaced whole
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return DatasetResult(str(out), manifest)


# --- train ----------------------------------------------------------------------------------------
@dataclass
class TrainRunResult(OpResult):
    out: str = ""
    model: str = ""
    f: int = 1
    metrics: list[dict] = field(default_factory=list)  # one per epoch of the run (metrics.csv)
    test_acc: float = 0.0
    trained: int = 0  # epochs trained by this call (the last ones of `metrics`; fewer on --resume)
    placement: str = ""  # where it trained, e.g. 'cuda:0 (NVIDIA H100), bf16 mixed precision'

    def header(self) -> str | None:
        return f"device: {self.placement}" if self.placement else super().header()

    def to_dict(self) -> dict[str, Any]:
        return {"out": self.out, "model": self.model, "f": self.f, "checkpoint": str(Path(self.out) / "last.pt"),
                **self.settings_dict(), "test_acc": self.test_acc, "trained": self.trained, "epochs": self.metrics}

    def to_rows(self) -> list[dict[str, Any]]:
        return self.metrics

    def this_call(self) -> list[dict]:
        """The epochs this call trained (a resumed run's earlier epochs are not re-printed)."""
        return self.metrics[len(self.metrics) - self.trained:] if self.trained else []

    def grids(self) -> list[Any]:
        from intensity.report.records import epochs_grid

        return [epochs_grid(f"{self.model} f={self.f}: test top-1 {self.test_acc:.2%}; checkpoint "
                            f"{Path(self.out) / 'last.pt'}", self.this_call())]


def run_train(config: Any, threads: int | None = None, progress: Progress | None = None) -> TrainRunResult:
    """Train an original (f = 1) or folded CNN (`config`: train.loop.TrainConfig); checkpoint every
    epoch into `config.out`, which is locked while this runs."""
    import torch

    from intensity.train.loop import check_config, train

    check_config(config)  # a bad number is one clean error before anything else
    if threads is not None and threads < 1:
        raise ValueError(f"`threads` must be >= 1, got {threads}")
    inputs = [*data_files(config.data), config.teacher]
    _check_run_directory(config.out, inputs)
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        result = train(config, progress)  # the trainer locks the run directory while it writes it
    finally:
        _drop_lock_without_directory(config.out)
    settings = Settings("fp32", result.device)  # where it trained (None in the config: the GPU when present)
    # `trained` and `notes` come with the trainer's --resume checks (another branch); until then
    # every epoch in the result was trained by this call
    trained = getattr(result, "trained", len(result.metrics))
    return TrainRunResult(result.out, config.model, config.f, result.metrics, result.test_acc, trained,
                          result.placement, settings=settings, notes=list(getattr(result, "notes", ())))


def _check_run_directory(out: str | Path, inputs: Sequence[str | None]) -> None:
    """The run directory may be neither an input nor hold one (a teacher's last.pt inside it would
    be overwritten by this run's checkpoint)."""
    target = check_output(out, inputs=inputs, option="--out", directory=True)
    for given in filter(None, inputs):
        if target in resolved_target(given).parents:
            raise ValueError(f"--out {out} holds {given}, an input of this command; writing the run there "
                             f"would overwrite it: give another --out directory")


# --- evaluate -------------------------------------------------------------------------------------
@dataclass
class EvaluateResult(OpResult):
    data: str = ""
    records: list[dict] = field(default_factory=list)  # one per checkpoint
    placement: str = ""  # where it evaluated (Placement.describe)

    def header(self) -> str | None:
        return f"device: {self.placement}" if self.placement else None

    def to_dict(self) -> dict[str, Any]:
        return {"data": self.data, "checkpoints": self.records}

    def to_rows(self) -> list[dict[str, Any]]:
        return self.records

    def grids(self) -> list[Any]:
        from intensity.report.tables import Grid

        rows = [(r["checkpoint"], r["model"], str(r["f"]), str(r["images"]), f"{r['top1']:.2%}",
                 "-" if r["order_stable"] is None else f"{r['order_stable']:.1%}") for r in self.records]
        return [Grid("evaluation", ("checkpoint", "model", "f", "images", "top-1", "order-stable"), rows,
                     ("checkpoint", "model"))]


def run_evaluate(runs: Sequence[str], data: str, batch: int = 256, orders: int = 24,
                 **placement: Any) -> EvaluateResult:
    """Top-1 of each checkpoint on the same test images, per class, and order sensitivity (5.3).
    `placement`: where the trainer evaluates (passed on to train.evaluate.evaluate_checkpoints)."""
    from intensity.train.evaluate import evaluate_checkpoints

    if not runs:
        raise ValueError("`runs` is empty; give run directories or checkpoints to evaluate")
    from intensity.train.device import placement as place

    where = place(**{k: v for k, v in placement.items() if k in ("device", "amp", "loader_workers")})
    return EvaluateResult(data, evaluate_checkpoints(list(runs), data, batch, orders, **placement),
                          where.describe())


# --- comm-model -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CommRequest:
    """`model.dtype` is the gradients' dtype, `model.batch` the images per worker per step and
    `model.device` the spec for the compute time; `bandwidth_gbs` is each node's network link."""

    model: ModelRequest
    workers: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    bandwidth_gbs: float = 7.0
    plot: str | Path | None = None  # a directory for comm_model.png/.svg


@dataclass
class CommResult(OpResult):
    model: str = ""
    gradient_bytes: float = 0.0
    bandwidth_gbs: float = 0.0
    rows: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, **self.settings_dict(), "gradient_bytes": self.gradient_bytes,
                "bandwidth_gbs": self.bandwidth_gbs, "rows": self.rows}

    def to_rows(self) -> list[dict[str, Any]]:
        return self.rows

    def grids(self) -> list[Any]:
        from intensity.report.tables import Grid

        s = self.settings
        rows = [(str(r["workers"]), r["strategy"], f"{r['comm_ms']:.3f}", f"{r['compute_ms']:.3f}",
                 f"{r['efficiency']:.1%}") for r in self.rows]
        title = (f"{self.model}: {self.gradient_bytes / 1e6:.2f} MB gradients ({s.dtype}), {self.bandwidth_gbs:g} GB/s, "
                 f"{s.device}")
        return [Grid(title, ("workers", "strategy", "comm ms", "compute ms", "efficiency"), rows, ("strategy",))]


def run_comm_model(request: CommRequest, progress: Progress | None = None) -> CommResult:
    """Per-step gradient communication: parameter server (Eqn 3.3), reduction tree (3.4), ring;
    with `plot`, comm_model.png/.svg there."""
    from intensity.analysis.comm import comm_model

    r = request
    plot = None if r.plot is None else check_output(r.plot, inputs=r.model.input_files(), option="--plot",
                                                    directory=True)
    m, warnings = resolve_spec(r.model, progress=progress)
    size, compute, found = comm_model(m.model, list(r.workers), r.bandwidth_gbs, dtype=m.dtype, device=m.device,
                                      batch=m.batch)
    rows = [{"workers": c.workers, "strategy": c.strategy, "comm_ms": c.comm_s * 1e3, "compute_ms": c.compute_s * 1e3,
             "efficiency": c.efficiency} for c in found]
    result = CommResult(str(m.model), size, r.bandwidth_gbs, rows, settings=m.settings(), warnings=warnings)
    if plot is not None:
        from intensity.report.plots import comm_figure, save

        result.notes.append(f"plot: {save(comm_figure(rows, str(m.model)), plot, 'comm_model')['png']}")
    return result
