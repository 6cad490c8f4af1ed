"""Operations of the design-space commands: space list/show, sweep, results, pareto, search,
changes and survey (seeds 002 and 003). Each takes a typed request and returns a typed result
(to_dict / to_rows / grids); nothing here prints.

Stores are written under their lock (explore.store.writing): a second writer gets a clear error,
and a store a failed command created is removed again.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from intensity.ops._base import ModelRequest, OpResult, Progress, Settings, resolve_spec
from intensity.output import check_output, resolved_target


# --- spaces -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpaceRequest:
    """A design space by name: nats-size (with `dataset`), fire, or a zoo model with `grid` axes
    ('width=0.5,1,2', one per axis)."""

    name: str
    grid: tuple[str, ...] = ()
    dataset: str | None = None

    def build(self) -> Any:
        """The space, every grid value built once on meta so a bad one fails before any work."""
        from intensity.explore.spaces import check_space, make_space, parse_grid

        space = make_space(self.name, dataset=self.dataset, grid=parse_grid(list(self.grid)))
        check_space(space)
        return space


@dataclass
class SpaceListResult(OpResult):
    spaces: dict[str, str] = field(default_factory=dict)  # name -> description

    def to_dict(self) -> dict[str, Any]:
        return {"spaces": self.to_rows()}

    def to_rows(self) -> list[dict[str, Any]]:
        return [{"space": name, "description": text} for name, text in self.spaces.items()]

    def grids(self) -> list[Any]:
        from intensity.report.records import records_grid

        return [records_grid("spaces", self.to_rows())]


def run_space_list() -> SpaceListResult:
    """The design spaces: the registered ones and grids over any zoo model."""
    from intensity.explore.spaces import space_descriptions

    return SpaceListResult(space_descriptions())


@dataclass
class SpaceShowResult(OpResult):
    space: str = ""
    size: int = 0
    spec: dict = field(default_factory=dict)
    input_shape: list[int] = field(default_factory=list)
    classes: Any = None  # the model's classes, or the grid's values when the grid varies them
    description: str = ""
    points: list[dict] = field(default_factory=list)  # {index, point}

    def to_dict(self) -> dict[str, Any]:
        return {"space": self.space, "size": self.size, "spec": self.spec, "input_shape": self.input_shape,
                "classes": self.classes, "description": self.description, "points": self.points}

    def to_rows(self) -> list[dict[str, Any]]:
        return list(self.points)

    def grids(self) -> list[Any]:
        from intensity.report.records import fields_grid, records_grid

        summary = {k: v for k, v in self.to_dict().items() if k != "points"}
        return [fields_grid(self.space, summary), records_grid("points", self.points)]


def run_space_show(request: SpaceRequest, limit: int = 10) -> SpaceShowResult:
    """A space's size, spec and first `limit` points (nats-size: also its last, 64:64:64:64:64)."""
    if limit < 0:
        raise ValueError(f"`limit` must be >= 0, got {limit}")
    space = request.build()
    points = [{"index": i, "point": space.point(i)} for i in range(min(limit, space.size))]
    if space.name == "nats-size" and limit:
        points.append({"index": space.size - 1, "point": space.point(space.size - 1)})
    classes = space.spec.get("grid", {}).get("num_classes", space.num_classes)
    return SpaceShowResult(space=space.name, size=space.size, spec=space.spec, input_shape=list(space.input_shape),
                           classes=classes, description=space.description, points=points)


# --- sweep --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepRequest:
    """What `intensity sweep` takes (see its --help); `points` is the --points text or a list."""

    space: SpaceRequest
    store: str | Path
    device: Any = None  # default: the configured device (intensity.config)
    dtype: str | None = None
    batches: tuple[int, ...] = (1,)
    points: str | Sequence[str] | None = None
    sample: int | None = None
    seed: int = 0
    evaluator: str | None = None
    table: str | Path | None = None
    data: str | None = None
    epochs: int | None = None
    lr: float | None = None
    per_class: int | None = None
    runs: str | Path | None = None
    method: str = "auto"
    workers: int | None = None
    scheduler: str | None = None
    measure: str | None = None  # also time each point here: cpu or cuda
    iters: int = 10
    trials: int = 3
    threads: int | None = None
    runtime: str = "eager"  # the estimate's execution model: eager or compiled
    profile: str | Path | None = None  # an efficiency profile JSON (fit-device); None: the device's own

    def inputs(self) -> list[str]:
        """Files the sweep reads besides its store (never to be overwritten by an output)."""
        from intensity.ops.train import data_files

        return [str(p) for p in (self.table, *data_files(self.data), self.profile) if p] + _device_files(self.device)


@dataclass
class SweepSummary(OpResult):
    outcome: Any = None  # explore.sweep.SweepResult

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self.outcome), **self.settings_dict()}

    def grids(self) -> list[Any]:
        from intensity.report.records import fields_grid

        shown = {k: v for k, v in asdict(self.outcome).items() if v != []}  # no empty notes row
        return [fields_grid(f"sweep {self.outcome.space} -> {self.outcome.store}", shown)]


def run_sweep(request: SweepRequest, progress: Progress | None = None) -> SweepSummary:
    """Evaluate the selected points of a space and commit each to the store (resuming a killed
    sweep); every input is checked before the store is touched."""
    from intensity.explore.evaluators import make_evaluator, train_settings
    from intensity.explore.spaces import iter_points, parse_points
    from intensity.explore.store import writing
    from intensity.explore.sweep import sweep

    from intensity.analysis.efficiency import check_runtime, load_profile

    r = request
    if r.points is not None and r.sample is not None:
        raise ValueError("give --points or --sample, not both")
    _check_batches(r.batches)
    check_runtime(r.runtime)
    check_store(r.store, r.inputs())
    space = r.space.build()
    settings = train_settings(r.data, r.epochs, r.lr, r.per_class, r.runs)
    runs = r.runs or Path(r.store).with_name(Path(r.store).name + ".runs")
    judge = make_evaluator(r.evaluator, space, r.table, train=settings, runs=runs)
    device, warnings = _device(r.device, r.dtype, progress, r.profile)  # a CPU refuses a profile first
    profile = None if r.profile is None else load_profile(r.profile)  # a bad file fails before any work
    selection = parse_points(r.points) if isinstance(r.points, str) else r.points
    next(iter_points(space, selection, r.sample, r.seed), None)  # a bad point or sample fails here
    measure = None if r.measure is None else {"on": r.measure, "iters": r.iters, "trials": r.trials,
                                              "threads": r.threads}
    if r.scheduler is not None and progress is not None:
        progress(f"connecting to the Dask scheduler at {r.scheduler}", 0, None)
    with writing(r.store, space.key) as store:
        outcome = sweep(space, store, device=device.device, dtype=device.dtype, batches=list(r.batches),
                        points=selection, sample=r.sample, seed=r.seed, evaluator=judge, method=r.method,
                        workers=r.workers, scheduler=r.scheduler, measure=measure, runtime=r.runtime,
                        profile=profile, progress=progress)
    note = (f"{outcome.added} points added, {outcome.skipped} already stored, {outcome.seconds:.1f} s "
            f"({outcome.method}) -> {r.store}")
    return SweepSummary(outcome, settings=device.settings(), notes=[note, *outcome.notes], warnings=warnings)


def check_store(path: str | Path, inputs: Sequence[str]) -> Path:
    """A results store path that can be created or opened for writing, and is none of `inputs`."""
    target = resolved_target(path)
    if target.is_dir():
        raise ValueError(f"--store {path} is a directory; give a file such as {Path(path) / 'results.db'}")
    if target.exists() and not target.is_file():
        raise ValueError(f"--store {path} is not a regular file (a device, FIFO or socket); give a file "
                         f"path such as results.db")
    return check_output(path, inputs=inputs, option="--store")


def _check_batches(batches: Sequence[int]) -> None:
    if not batches or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in batches):
        raise ValueError(f"`batches` must be positive integers, got {list(batches)}; give e.g. --batch 1,64")


def _device(device: Any, dtype: str | None, progress: Progress | None,
            profile: str | Path | None = None) -> tuple[ModelRequest, list[str]]:
    """The dtype and device (configured defaults for None; cpu/measured micro-benchmarked here);
    a `profile` for a device without a GPU estimate is refused first."""
    profile = None if profile is None else str(profile)
    return resolve_spec(ModelRequest(None, dtype=dtype, device=device, profile=profile), progress=progress)


def _device_files(device: Any) -> list[str]:
    return ModelRequest(None, dtype="fp32", device=device).input_files() if device is not None else []



# --- results and pareto ---------------------------------------------------------------------------
@dataclass
class RecordsResult(OpResult):
    """The rows of a results store, one flat record per point, batch, dtype, device and evaluator."""

    store: str = ""
    records: list[dict] = field(default_factory=list)
    limit: int | None = None  # rows the table shows (JSON and CSV hold all)

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "rows": self.records}

    def to_rows(self) -> list[dict[str, Any]]:
        return self.records

    def grids(self) -> list[Any]:
        from intensity.report.records import BOUND_AND_ESTIMATE, records_grid

        shown = self.records[:self.limit] if self.limit else self.records
        return [records_grid(f"{self.store} ({len(self.records)} rows)", shown, labels=BOUND_AND_ESTIMATE)]


def run_results(store: str | Path, limit: int | None = None) -> RecordsResult:
    """Every row of a results store (an error when it holds none)."""
    from intensity.explore.store import all_records

    if limit is not None and limit < 1:
        raise ValueError(f"`limit` must be >= 1, got {limit}")
    return RecordsResult(store=str(store), records=all_records(store), limit=limit)


@dataclass(frozen=True)
class ParetoRequest:
    store: str | Path
    objectives: str = "accuracy:max,throughput:max"
    batch: int | None = None
    dtype: str | None = None
    device: str | None = None
    evaluator: str | None = None
    plots: str | Path | None = None  # a directory for pareto.png/.svg


@dataclass
class ParetoResult(OpResult):
    objectives: list[str] = field(default_factory=list)
    points: int = 0
    frontier: list[dict] = field(default_factory=list)
    hypervolume: float = 0.0
    reference: list[float] = field(default_factory=list)
    plots: dict[str, str] = field(default_factory=dict)  # written figures: png, svg

    def to_dict(self) -> dict[str, Any]:
        return {"objectives": self.objectives, "points": self.points, **self.settings_dict(),
                "frontier": self.frontier, "hypervolume": self.hypervolume, "reference": self.reference}

    def to_rows(self) -> list[dict[str, Any]]:
        return self.frontier

    def grids(self) -> list[Any]:
        from intensity.report.records import BOUND_AND_ESTIMATE, records_grid

        title = f"frontier: {len(self.frontier)} of {self.points} points, hypervolume {self.hypervolume:.6g}"
        return [records_grid(title, self.frontier, labels=BOUND_AND_ESTIMATE)]


def run_pareto(request: ParetoRequest) -> ParetoResult:
    """The non-dominated points of one setting of a store and their hypervolume (moocore)."""
    from intensity.explore.pareto import frontier, frontier_records, parse_objectives
    from intensity.explore.store import select_rows

    r = request
    plots = None if r.plots is None else check_output(r.plots, inputs=[r.store], option="--plots", directory=True)
    records = select_rows(r.store, batch=r.batch, dtype=r.dtype, device=r.device, evaluator=r.evaluator)
    chosen = parse_objectives(r.objectives, [*records[0], "accuracy"])
    front = frontier(records, chosen)
    result = ParetoResult(objectives=[str(o) for o in chosen], points=len(records),
                          frontier=frontier_records(records, chosen, front), hypervolume=front.hypervolume,
                          reference=front.reference, settings=Settings(records[0]["dtype"], records[0]["device"]))
    if plots is not None:
        from intensity.report.plots import frontier_figure, save

        result.plots = save(frontier_figure(records, chosen, front.members), plots, "pareto")
        result.notes.append(f"plot: {result.plots['png']}")
    return result


# --- search ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchRequest:
    space: SpaceRequest
    table: str | Path  # accuracies (CSV/JSON): the table evaluator
    device: Any = None  # default: the configured device
    strategy: str = "filter"
    budget_evals: int = 100
    budget_hours: float | None = None
    batch: int = 1
    dtype: str | None = None
    g_t: float = 175_000.0
    w: float = 0.07
    seed: int = 0
    split: str | None = None  # NATS-Bench JSON records: the evaluation split

    def inputs(self) -> list[str]:
        return [str(self.table), *_device_files(self.device)]


@dataclass
class SearchOpResult(OpResult):
    result: Any = None  # explore.search.SearchResult

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {"strategy": r.strategy, "evaluations": r.evaluations, "budget": r.budget,
                "hypervolume": r.hypervolume, "true_hypervolume": r.true_hypervolume,
                "hypervolume_ratio": r.hypervolume_ratio, "candidates": r.candidates,
                "frontier": [asdict(e) for e in r.frontier], "best_by_eqn3": [asdict(e) for e in r.best],
                "notes": r.notes, **self.settings_dict()}

    def to_rows(self) -> list[dict[str, Any]]:
        return self.to_dict()["frontier"]

    def grids(self) -> list[Any]:
        from intensity.report.records import fields_grid, records_grid

        data = self.to_dict()
        summary = {k: v for k, v in data.items() if not isinstance(v, list) and k not in self.settings_dict()}
        return [fields_grid("search", summary), records_grid("frontier found", data["frontier"]),
                records_grid("best by Eqn 3", data["best_by_eqn3"])]


def run_search(request: SearchRequest, progress: Progress | None = None) -> SearchOpResult:
    """Sample-based NAS for the accuracy x throughput frontier (seed 003 Algorithm 1, Eqn 3)."""
    from intensity.explore.evaluators import make_evaluator
    from intensity.explore.search import STRATEGIES, check_search_numbers, search

    r = request
    STRATEGIES[r.strategy]  # an unknown strategy fails before the table and space are loaded
    check_search_numbers(r.budget_evals, r.g_t, r.w, r.budget_hours)
    if r.batch < 1:
        raise ValueError(f"`batch` must be >= 1, got {r.batch}")
    space = r.space.build()
    judge = make_evaluator("table", space, r.table, r.split)
    device, warnings = _device(r.device, r.dtype, progress)
    found = search(space, lambda p: judge.evaluate([p])[p], strategy=r.strategy, budget=r.budget_evals,
                   device=device.device, dtype=device.dtype, batch=r.batch, g_t=r.g_t, w=r.w, seed=r.seed,
                   known=judge.known(), budget_hours=r.budget_hours, progress=progress)
    return SearchOpResult(found, settings=device.settings(), notes=list(found.notes), warnings=warnings)


# --- changes --------------------------------------------------------------------------------------
@dataclass
class ChangesResult(OpResult):
    model: str = "nin"
    changes: list = field(default_factory=list)  # explore.changes.Change

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "changes": self.to_rows()}

    def to_rows(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.changes]

    def grids(self) -> list[Any]:
        from intensity.report.records import records_grid

        rows = [{"modification": c.modification, "type": c.kind,
                 "output": f"{c.output_ratio:.2f}x ({c.seed_ratios[0]:g}x)",
                 "params": f"{c.params_ratio:.2f}x ({c.seed_ratios[1]:g}x)",
                 "computation": f"{c.flops_ratio:.2f}x ({c.seed_ratios[2]:g}x)"} for c in self.changes]
        return [records_grid("Table 4.1 on NiN: ours (seed's)", rows)]


def run_changes(model: str = "nin") -> ChangesResult:
    """Seed 002 Table 4.1: local and global changes to NiN and their ratios, beside the seed's."""
    from intensity.explore.changes import changes

    return ChangesResult(model, changes(model))


# --- survey ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SurveyRequest:
    data: str | Path  # folder of timm's results files
    store: str | Path = "survey.db"  # caches each model's analysis
    device: str = "rtx4090"  # which timm benchmark
    limit: int | None = None
    fold: int = 5  # predict folding for the N lowest-intensity models
    f: int = 4
    plots: str | Path | None = None
    runtime: str = "eager"  # the estimate's (and the measured table's): eager or compiled
    profile: str | Path | None = None  # an efficiency profile JSON (fit-device); None: the device's own

    def data_files(self) -> list[str]:
        """The timm files read (the store may live in the same folder), and the profile."""
        from intensity.explore.fit_device import PUBLISHED

        bench = PUBLISHED.get((self.device, self.runtime), "")
        return [str(Path(self.data) / name) for name in ("results-imagenet.csv", bench)] + \
            ([str(self.profile)] if self.profile else [])

    def inputs(self) -> list[str]:
        return [*self.data_files(), str(self.store)]


@dataclass
class SurveyResult(OpResult):
    survey: Any = None  # explore.survey.Survey

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self.survey), **self.settings_dict()}

    def to_rows(self) -> list[dict[str, Any]]:
        from intensity.explore.survey import survey_rows

        return survey_rows(self.survey)

    def grids(self) -> list[Any]:
        from intensity.report.records import survey_grids

        return survey_grids(self.survey, self.to_rows())


def run_survey(request: SurveyRequest, progress: Progress | None = None) -> SurveyResult:
    """Seed 003's survey on timm's published accuracies and GPU benchmark (explore.survey)."""
    import json

    from intensity.analysis.efficiency import load_profile
    from intensity.explore.store import writing
    from intensity.explore.survey import SURVEY_SPACE, benchmark_file, survey

    r = request
    benchmark_file(r.device, r.runtime)  # an unknown device or runtime fails first
    profile = None if r.profile is None else load_profile(r.profile)
    if r.limit is not None and r.limit < 1 or r.fold < 0 or r.f < 2:
        raise ValueError(f"`limit` must be >= 1, `fold` >= 0 and `f` >= 2; got {r.limit}, {r.fold}, {r.f}")
    check_store(r.store, r.data_files())
    plots = None if r.plots is None else check_output(r.plots, inputs=r.inputs(), option="--plots", directory=True)
    with writing(r.store, json.dumps(SURVEY_SPACE, sort_keys=True)) as cache:
        found = survey(Path(r.data), cache, device=r.device, limit=r.limit, fold_f=r.f, fold_count=r.fold,
                       runtime=r.runtime, profile=profile, progress=progress)
    result = SurveyResult(found, settings=Settings("fp16", found.device), notes=list(found.notes))
    if plots is not None:
        from intensity.report.plots import save, survey_figure

        result.notes.append(f"plot: {save(survey_figure(found), plots, 'survey')['png']}")
    return result
