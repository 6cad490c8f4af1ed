"""Commands that explore design spaces: space, sweep, results, pareto, search, changes, survey."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from intensity.cli._app import (
    DtypeOpt, FormatOpt, OutOpt, app, check_out_dir, check_out_file, emit, fail, guarded, nonempty_path, note,
    numbers, progress, resolve_device,
)

space_app = typer.Typer(help="Design spaces: list them, or show one's size and points.",
                        no_args_is_help=True)
app.add_typer(space_app, name="space")

SpaceArg = Annotated[str, typer.Argument(help="nats-size, fire, or a zoo model name (with --grid)")]
GridOpt = Annotated[Optional[list[str]], typer.Option(
    "--grid", help="an axis NAME=V1,V2,... (repeatable): fire metaparameters or a model's kwargs")]
DatasetOpt = Annotated[Optional[str], typer.Option(
    help="nats-size: cifar10 (default), cifar10-valid, cifar100 or ImageNet16-120")]
StoreArg = Annotated[Path, typer.Argument(help="a results store written by `intensity sweep`")]


def _space(name: str, grid: list[str] | None, dataset: str | None):  # noqa: ANN202
    from intensity.explore.spaces import check_space, make_space, parse_grid

    space = guarded(lambda: make_space(name, dataset=dataset, grid=parse_grid(grid or [])))
    guarded(lambda: check_space(space))  # a bad grid value fails here, before any store or work
    return space


@space_app.command("list")
def space_list(format: FormatOpt = "table") -> None:  # noqa: A002
    """The design spaces: nats-size, fire, and grids over any zoo model."""
    from intensity.explore.spaces import SPACES

    records = [{"space": name, "description": text} for name, text in SPACES.items()]
    emit(format, records, lambda: [_table("spaces", records)])


@space_app.command("show")
def space_show(
    name: SpaceArg,
    grid: GridOpt = None,
    dataset: DatasetOpt = None,
    limit: Annotated[int, typer.Option(help="points to list", min=0)] = 10,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """A space's size, spec and first points (with their NATS-Bench index for nats-size)."""
    space = _space(name, grid, dataset)
    points = [{"index": i, "point": space.point(i)} for i in range(min(limit, space.size))]
    if space.name == "nats-size" and limit:
        points.append({"index": space.size - 1, "point": space.point(space.size - 1)})
    # a grid over num_classes overrides the model's default classes per point
    classes = space.spec.get("grid", {}).get("num_classes", space.num_classes)
    data = {"space": space.name, "size": space.size, "spec": space.spec,
            "input_shape": list(space.input_shape), "classes": classes,
            "description": space.description, "points": points}
    summary = [{"field": k, "value": str(v)} for k, v in data.items() if k != "points"]
    emit(format, data, lambda: [_table(space.name, summary), _table("points", points)])


@app.command()
def sweep(
    name: SpaceArg,
    store: Annotated[Path, typer.Option(help="results store (SQLite; created, or resumed)")],
    device: Annotated[str, typer.Option(help="accelerator spec (intensity devices), a .toml file, cpu")],
    batch: Annotated[str, typer.Option(help="batch sizes, comma-separated, e.g. 1,64")] = "1",
    dtype: DtypeOpt = "fp16",
    grid: GridOpt = None,
    dataset: DatasetOpt = None,
    points: Annotated[Optional[str], typer.Option(help="only these points (indices or strings), comma-separated; "
                                                       "use ; between grid points")] = None,
    sample: Annotated[Optional[int], typer.Option(help="a seeded random sample of N points", min=1)] = None,
    seed: Annotated[int, typer.Option(help="seed of --sample")] = 0,
    evaluator: Annotated[Optional[Literal["table", "train"]], typer.Option(
        help="accuracy: table (with --table) or train (with --data)")] = None,
    table: Annotated[Optional[Path], typer.Option(help="CSV/JSON of known accuracies (--evaluator table)")] = None,
    data: Annotated[Optional[str], typer.Option(help="--evaluator train: DIR, cifar10:DIR, generated:TASK or "
                                                     "video:VIDEO,CSV with the space's classes")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="--evaluator train: epochs per point (5)", min=1)] = None,
    lr: Annotated[Optional[float], typer.Option(help="--evaluator train: Adam learning rate (1e-3)")] = None,
    per_class: Annotated[Optional[int], typer.Option(help="--evaluator train: generated images per class (200)",
                                                     min=1)] = None,
    runs: Annotated[Optional[str], typer.Option(help="--evaluator train: run directories (default STORE.runs)",
                                                 callback=nonempty_path)] = None,
    method: Annotated[Literal["auto", "closed-form", "trace"], typer.Option(
        help="auto: closed form for nats-size, tracing otherwise")] = "auto",
    workers: Annotated[Optional[int], typer.Option(
        help="run on a local Dask cluster of N single-threaded workers (--evaluator train: one point "
             "per worker at a time, each on its own GPU if any)", min=1)] = None,
    scheduler: Annotated[Optional[str], typer.Option(
        help="run on this Dask scheduler, tcp://HOST:PORT (--evaluator train: --data and --runs "
             "must be paths every worker can read and write)")] = None,
    measure: Annotated[Optional[Literal["cpu", "cuda"]], typer.Option(
        help="also time each point here (images/s, achieved utilization against --device)")] = None,
    iters: Annotated[int, typer.Option(help="--measure: batches per trial", min=1)] = 10,
    trials: Annotated[int, typer.Option(help="--measure: timed trials", min=1)] = 3,
    threads: Annotated[Optional[int], typer.Option(help="--measure: CPU threads", min=1)] = None,
) -> None:
    """Evaluate every point of a space (flops, bytes, intensity, waterline latency, utilization,
    DI; with --measure also timed images/s) and commit each to the store; a rerun resumes where a
    killed one stopped."""
    from intensity.explore.evaluators import make_evaluator
    from intensity.explore.spaces import iter_points
    from intensity.explore.store import Store
    from intensity.explore.sweep import sweep as run_sweep

    if points is not None and sample is not None:
        fail("give --points or --sample, not both")
    space = _space(name, grid, dataset)
    batches = guarded(lambda: numbers(batch, int, "--batch", "1,64"))
    settings = guarded(lambda: _train_settings(data, epochs, lr, per_class, runs))
    judge = guarded(lambda: make_evaluator(evaluator, space, table, train=settings,
                                           runs=runs or store.with_name(store.name + ".runs")))
    spec = resolve_device(device, dtype)
    selection = _points(points)
    guarded(lambda: next(iter_points(space, selection, sample, seed), None))  # bad --points/--sample
    if scheduler is not None:
        note(f"connecting to the Dask scheduler at {scheduler} ...")
    fresh = not store.exists()
    try:
        with guarded(lambda: Store(store, space.key)) as results, progress(f"sweep {space.name}") as bar:
            outcome = guarded(lambda: run_sweep(
                space, results, device=spec, dtype=dtype, batches=batches, points=selection,
                sample=sample, seed=seed, evaluator=judge, method=method, workers=workers,
                scheduler=scheduler, progress=bar,
                measure=None if measure is None else {"on": measure, "iters": iters, "trials": trials,
                                                      "threads": threads}))
    except typer.Exit:
        if fresh:
            _remove_empty_store(store)
        raise
    note(f"{outcome.added} points added, {outcome.skipped} already stored, {outcome.seconds:.1f} s "
         f"({outcome.method}) -> {store}")
    for line in outcome.notes:  # e.g. where trained points ran
        note(line)


def _train_settings(data: str | None, epochs: int | None, lr: float | None, per_class: int | None,
                    runs: Path | None):  # noqa: ANN202 (TrainSettings, imported lazily)
    """The train evaluator's settings, or None when none was given (so make_evaluator can refuse
    them without --evaluator train instead of ignoring them)."""
    from intensity.explore.evaluators import TrainSettings
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


def _remove_empty_store(path: Path) -> None:
    """A store this failed sweep created and left without rows is removed, so a rerun with
    another space or grid is not refused as 'another space'."""
    import sqlite3

    try:
        with sqlite3.connect(path) as conn:
            empty = conn.execute("select count(*) from results").fetchone()[0] == 0
    except sqlite3.Error:
        empty = False
    if empty:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _points(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [p.strip() for p in text.split(";" if ";" in text or "=" in text else ",") if p.strip()]


@app.command()
def results(
    store: StoreArg,
    format: Annotated[Literal["table", "csv", "json"], typer.Option("--format", help="table, csv or json")] = "csv",
    limit: Annotated[Optional[int], typer.Option(help="table: only the first N rows", min=1)] = None,
    out: OutOpt = None,
) -> None:
    """Export a results store: one record per point, batch, dtype, device and evaluator."""
    from intensity.explore.store import open_store

    guarded(lambda: check_out_file(out))
    with guarded(lambda: open_store(store)) as opened:
        records = [r.flat() for r in opened.rows()]
    if not records:
        fail(f"no results in {store}; run `intensity sweep` with --store {store} first")
    shown = records[:limit] if limit else records
    emit(format, records, lambda: [_table(f"{store} ({len(records)} rows)", shown)], out)


def _load_records(store: Path, batch: int | None, dtype: str | None, device: str | None,
                  evaluator: str | None) -> list[dict]:
    from intensity.explore.store import open_store

    with guarded(lambda: open_store(store)) as opened:
        rows = opened.rows(batch=batch, dtype=dtype, device=device, evaluator=evaluator)
        stored = opened.rows() if not rows else rows
    settings = {(r.batch, r.dtype, r.device, r.evaluator) for r in rows}
    if not stored:
        fail(f"no results in {store}; run `intensity sweep` with --store {store} first")
    if not rows:
        def listed(values: set) -> str:
            return ", ".join(map(str, sorted(values)))

        fail(f"{store} has no results matching the filters; it holds batches {listed({r.batch for r in stored})}, "
             f"devices {listed({r.device for r in stored})}, dtypes {listed({r.dtype for r in stored})}, "
             f"evaluators {listed({r.evaluator for r in stored})}")
    if len(settings) > 1:
        listed = "; ".join(f"--batch {b} --dtype {d} --device {v} --evaluator {e}" for b, d, v, e in sorted(settings))
        fail(f"{store} holds several settings; choose one with: {listed}")
    return [r.flat() for r in rows]


@app.command()
def pareto(
    store: StoreArg,
    objectives: Annotated[str, typer.Option(help="NAME:max|min, comma-separated (throughput = images/s)")]
    = "accuracy:max,throughput:max",
    batch: Annotated[Optional[int], typer.Option(help="only rows of this batch")] = None,
    dtype: Annotated[Optional[str], typer.Option(help="only rows of this dtype")] = None,
    device: Annotated[Optional[str], typer.Option(help="only rows of this device")] = None,
    evaluator: Annotated[Optional[str], typer.Option(help="only rows of this evaluator")] = None,
    plots: Annotated[Optional[str], typer.Option(help="write the frontier plot (png, svg) here", callback=nonempty_path)] = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """The non-dominated points of a store and their hypervolume (moocore), seed 003 Fig. 1."""
    from intensity.explore.pareto import frontier, parse_objectives

    guarded(lambda: check_out_file(out))
    if plots is not None:
        guarded(lambda: check_out_dir(plots, "--plots"))
    records = _load_records(store, batch, dtype, device, evaluator)
    chosen = guarded(lambda: parse_objectives(objectives, [*records[0], "accuracy"]))
    front = guarded(lambda: frontier(records, chosen))
    members = sorted((records[i] for i in front.members), key=lambda r: -r[chosen[1].metric])
    columns = ["point", *[o.metric for o in chosen], "intensity", "flops", "params"]
    rows = [{c: r.get(c) for c in dict.fromkeys(columns)} for r in members]
    data = {"objectives": [str(o) for o in chosen], "points": len(records), "frontier": rows,
            "hypervolume": front.hypervolume, "reference": front.reference}
    title = f"frontier: {len(rows)} of {len(records)} points, hypervolume {front.hypervolume:.6g}"
    emit(format, data, lambda: [_table(title, rows)], out)
    if plots is not None:
        from intensity.report.plots import frontier_figure, save

        paths = save(frontier_figure(records, chosen, front.members), plots, "pareto")
        note(f"plot: {paths['png']}")


def _table(title: str, records: list[dict]):  # noqa: ANN202
    from rich.table import Table

    table = Table(title=title)
    columns = list(dict.fromkeys(k for r in records for k in r))
    for column in columns:
        table.add_column(column)
    for record in records:
        table.add_row(*[_cell(record.get(c)) for c in columns])
    return table


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


@app.command()
def search(
    name: SpaceArg,
    device: Annotated[str, typer.Option(help="accelerator spec for the analytic throughput and utilization")],
    table: Annotated[Path, typer.Option(help="accuracies (CSV/JSON): the table evaluator")],
    strategy: Annotated[Literal["random", "evolution", "filter"], typer.Option(
        help="random, evolution (Optuna NSGA-II) or filter (utilization-based approximate filtering)")] = "filter",
    budget_evals: Annotated[int, typer.Option(help="accuracy evaluations to spend", min=1)] = 100,
    budget_hours: Annotated[Optional[float], typer.Option(help="also stop after this many hours")] = None,
    batch: Annotated[int, typer.Option(help="batch of the throughput prediction", min=1)] = 1,
    dtype: DtypeOpt = "fp16",
    grid: GridOpt = None,
    dataset: DatasetOpt = None,
    g_t: Annotated[float, typer.Option("--g-t", help="Eqn 3's target throughput G_T (images/s)")] = 175_000.0,
    w: Annotated[float, typer.Option("--w", help="Eqn 3's throughput weight w")] = 0.07,
    seed: Annotated[int, typer.Option(help="sampler seed")] = 0,
    split_name: Annotated[Optional[str], typer.Option(
        "--split", help="NATS-Bench JSON records only: evaluation split (default ori-test)")] = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Sample-based NAS for the accuracy x throughput frontier (seed 003 Algorithm 1, Eqn 3), with
    random or evolutionary sampling, or approximate filtering by the utilization frontier."""
    from intensity.explore.evaluators import make_evaluator
    from intensity.explore.search import search as run_search

    guarded(lambda: check_out_file(out))
    _check_search_numbers(g_t, w, budget_hours)
    space = _space(name, grid, dataset)
    judge = guarded(lambda: make_evaluator("table", space, table, split_name))
    spec = resolve_device(device, dtype)
    with progress(f"search {space.name} ({strategy})") as bar:
        result = guarded(lambda: run_search(
            space, lambda p: judge.evaluate([p])[p], strategy=strategy, budget=budget_evals,
            device=spec, dtype=dtype, batch=batch, g_t=g_t, w=w, seed=seed, known=judge.known(),
            budget_hours=budget_hours, progress=bar))
    frontier_rows = [vars(e) for e in result.frontier]
    data = {"strategy": result.strategy, "evaluations": result.evaluations, "budget": result.budget,
            "hypervolume": result.hypervolume, "true_hypervolume": result.true_hypervolume,
            "hypervolume_ratio": result.hypervolume_ratio, "candidates": result.candidates,
            "frontier": frontier_rows, "best_by_eqn3": [vars(e) for e in result.best],
            "notes": result.notes}
    summary = [{"field": k, "value": _cell(v)} for k, v in data.items() if not isinstance(v, list)]
    emit(format, data, lambda: [_table("search", summary), _table("frontier found", frontier_rows),
                                _table("best by Eqn 3", data["best_by_eqn3"])], out)
    for text in result.notes:
        note(text)


def _check_search_numbers(g_t: float, w: float, budget_hours: float | None) -> None:
    """Eqn 3's G_T and w and the time budget, checked before the table and space are loaded."""
    import math

    if not (math.isfinite(g_t) and g_t > 0):
        fail(f"--g-t (Eqn 3's target throughput G_T, images/s) must be a finite number > 0, got {g_t}")
    if not (math.isfinite(w) and w >= 0):
        fail(f"--w (Eqn 3's throughput weight) must be a finite number >= 0, got {w}")
    if budget_hours is not None and not (math.isfinite(budget_hours) and budget_hours > 0):
        fail(f"--budget-hours must be a finite number > 0, got {budget_hours}")


@app.command()
def changes(
    model: Annotated[str, typer.Argument(help="nin (seed 002's running example)")] = "nin",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Seed 002 Table 4.1: local and global changes to NiN and their ratios of output, params and
    computation, beside the seed's."""
    from intensity.explore.changes import changes as run_changes

    guarded(lambda: check_out_file(out))
    found = guarded(lambda: run_changes(model))
    rows = [{"modification": c.modification, "type": c.kind,
             "output": f"{c.output_ratio:.2f}x ({c.seed_ratios[0]:g}x)",
             "params": f"{c.params_ratio:.2f}x ({c.seed_ratios[1]:g}x)",
             "computation": f"{c.flops_ratio:.2f}x ({c.seed_ratios[2]:g}x)"} for c in found]
    emit(format, found, lambda: [_table("Table 4.1 on NiN: ours (seed's)", rows)], out)


@app.command()
def survey(
    data: Annotated[Path, typer.Option(help="folder of timm's results/ files: results-imagenet.csv and "
                                            "benchmark-infer-amp-nchw-*.csv")],
    store: Annotated[Path, typer.Option(help="results store caching each model's analysis")] = Path("survey.db"),
    device: Annotated[Literal["rtx4090", "rtx5090"], typer.Option(help="which timm benchmark")] = "rtx4090",
    limit: Annotated[Optional[int], typer.Option(help="only the first N benchmarked models", min=1)] = None,
    fold: Annotated[int, typer.Option(help="predict folding for the N lowest-intensity models", min=0)] = 5,
    f: Annotated[int, typer.Option("-f", help="folding factor", min=2)] = 4,
    plots: Annotated[Optional[str], typer.Option(help="write the frontier plots (png, svg) here", callback=nonempty_path)] = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Seed 003's survey on timm's published ImageNet accuracies and GPU benchmark: utilization,
    the three 2-D frontiers, the intensity split at op:byte and predicted folding."""
    from intensity.explore.store import Store
    from intensity.explore.survey import SURVEY_SPACE
    from intensity.explore.survey import survey as run_survey

    guarded(lambda: check_out_file(out))
    if plots is not None:
        guarded(lambda: check_out_dir(plots, "--plots"))
    import json

    with guarded(lambda: Store(store, json.dumps(SURVEY_SPACE, sort_keys=True))) as cache, \
            progress("survey") as bar:
        result = guarded(lambda: run_survey(data, cache, device=device, limit=limit, fold_f=f,
                                            fold_count=fold, progress=bar))
    models = [_survey_row(m, result.frontiers) for m in result.models]
    emit(format, result, lambda: _survey_tables(result, models), out,
         csv_text=lambda: _csv(models))
    if plots is not None:
        from intensity.report.plots import save, survey_figure

        note(f"plot: {save(survey_figure(result), plots, 'survey')['png']}")


def _survey_row(model, frontiers: dict) -> dict:  # noqa: ANN001
    point = f"{model.name}@{model.img_size}"
    return {"model": point, "top1": model.top1, "images_per_s": model.images_per_s,
            "utilization": model.utilization, "intensity": model.intensity,
            "side": {True: "above", False: "below", None: "?"}[model.above_op_byte],
            "frontiers": "".join("TUA"[i] if point in v else "." for i, v in enumerate(frontiers.values())),
            "fold": "" if not model.fold else (model.fold.get("error") or
                                               f"f={model.fold['f']}: x{model.fold['speedup']:.2f}, util "
                                               f"{model.fold['utilization_before']:.2f}->"
                                               f"{model.fold['utilization_after']:.2f}")}


def _csv(rows: list[dict]) -> str:
    from intensity.cli._app import to_csv

    return to_csv(rows)


def _survey_tables(result, models: list[dict]) -> list:  # noqa: ANN001
    on_frontier = [m for m in models if m["frontiers"] != "..." or m["fold"]]
    split_rows = [{"group": k, **v} for k, v in result.split.items()]
    failed = [{"model": f"{m.name}@{m.img_size}", "error": m.error} for m in result.failed]
    title = (f"{len(models)} models on {result.device} (op:byte {result.op_byte:.0f}); frontiers: "
             f"T = throughput-accuracy, U = throughput-utilization, A = utilization-accuracy; "
             f"on all three: {', '.join(result.on_all) or 'none'}")
    return [_table(title, on_frontier), _table("split by intensity at op:byte (Fig. 2a)", split_rows),
            _table(f"failed analyses ({len(failed)}), utilization from timm's GMACs", failed)]
