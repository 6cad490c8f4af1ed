"""Commands that explore design spaces: space, sweep, results, pareto, search, changes, survey.

Declarations only: each command builds a request, calls one operation (intensity.ops.explore)
and emits its result. Choices (spaces, evaluators, strategies, sweep methods, survey benchmarks)
come from the library's registries.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from intensity.cli._app import (
    DeviceOpt, DtypeOpt, FormatOpt, OutOpt, ProfileOpt, RuntimeOpt, _choices, app, call, check_out, emit, fail, guarded,
    nonempty_path, numbers,
)
from intensity.analysis.efficiency import RUNTIMES
from intensity.explore.evaluators import EVALUATORS
from intensity.explore.search import STRATEGIES
from intensity.explore.spaces import space_descriptions
from intensity.explore.survey import BENCHMARKS
from intensity.explore.sweep import METHODS
from intensity.ops import explore as ops

space_app = typer.Typer(help="Design spaces: list them, or show one's size and points.",
                        no_args_is_help=True)
app.add_typer(space_app, name="space")

SpaceArg = Annotated[str, typer.Argument(help="; ".join(f"{k}: {v}" for k, v in space_descriptions().items()))]
GridOpt = Annotated[Optional[list[str]], typer.Option(
    "--grid", help="an axis NAME=V1,V2,... (repeatable): fire metaparameters or a model's kwargs")]
DatasetOpt = Annotated[Optional[str], typer.Option(
    help="nats-size: cifar10 (default), cifar10-valid, cifar100 or ImageNet16-120")]
StoreArg = Annotated[Path, typer.Argument(help="a results store written by `intensity sweep`")]
PlotsOpt = Annotated[Optional[str], typer.Option(help="write the frontier plot (png, svg) here",
                                                 callback=nonempty_path)]


def _runtime_choices() -> type:
    return _choices(RUNTIMES)


def _space(name: str, grid: list[str] | None, dataset: str | None) -> ops.SpaceRequest:
    return ops.SpaceRequest(name, tuple(grid or ()), dataset)


@space_app.command("list")
def space_list(format: FormatOpt = "table", out: OutOpt = None) -> None:  # noqa: A002
    """The design spaces: nats-size, fire, and grids over any zoo model."""
    out = check_out(out)
    emit(guarded(ops.run_space_list), format, out)


@space_app.command("show")
def space_show(
    name: SpaceArg,
    grid: GridOpt = None,
    dataset: DatasetOpt = None,
    limit: Annotated[int, typer.Option(help="points to list", min=0)] = 10,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """A space's size, spec and first points (with their NATS-Bench index for nats-size)."""
    out = check_out(out)
    emit(guarded(lambda: ops.run_space_show(_space(name, grid, dataset), limit)), format, out)


@app.command()
def sweep(
    name: SpaceArg,
    store: Annotated[Path, typer.Option(help="results store (SQLite; created, or resumed)")],
    device: DeviceOpt = None,
    batch: Annotated[str, typer.Option(help="batch sizes, comma-separated, e.g. 1,64")] = "1",
    dtype: DtypeOpt = None,
    grid: GridOpt = None,
    dataset: DatasetOpt = None,
    points: Annotated[Optional[str], typer.Option(help="only these points (indices or strings), comma-separated; "
                                                       "use ; between grid points")] = None,
    sample: Annotated[Optional[int], typer.Option(help="a seeded random sample of N points", min=1)] = None,
    seed: Annotated[int, typer.Option(help="seed of --sample")] = 0,
    evaluator: Annotated[Optional[_choices(EVALUATORS)], typer.Option(
        help=f"accuracy: {EVALUATORS.choices_help()}")] = None,
    table: Annotated[Optional[Path], typer.Option(help="CSV/JSON of known accuracies (--evaluator table)")] = None,
    data: Annotated[Optional[str], typer.Option(help="--evaluator train: DIR, cifar10:DIR, generated:TASK or "
                                                     "video:VIDEO,CSV with the space's classes")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="--evaluator train: epochs per point (5)", min=1)] = None,
    lr: Annotated[Optional[float], typer.Option(help="--evaluator train: Adam learning rate (1e-3)")] = None,
    per_class: Annotated[Optional[int], typer.Option(help="--evaluator train: generated images per class (200)",
                                                     min=1)] = None,
    runs: Annotated[Optional[str], typer.Option(help="--evaluator train: run directories (default STORE.runs)",
                                                 callback=nonempty_path)] = None,
    method: Annotated[Literal.__getitem__(METHODS), typer.Option(
        help="auto: closed form for nats-size, tracing otherwise")] = "auto",
    workers: Annotated[Optional[int], typer.Option(
        help="run on a local Dask cluster of N single-threaded workers (--evaluator train: one point "
             "per worker at a time, each on its own GPU if any)", min=1)] = None,
    scheduler: Annotated[Optional[str], typer.Option(
        help="run on this Dask scheduler, tcp://HOST:PORT (--evaluator train: --data and --runs "
             "must be paths every worker can read and write)")] = None,
    measure: Annotated[Optional[Literal["cpu", "cuda"]], typer.Option(
        help="also time each point here (images/s, achieved utilization against --device)")] = None,
    iters: Annotated[Optional[int], typer.Option(help="--measure: batches per trial (10)", min=1)] = None,
    trials: Annotated[Optional[int], typer.Option(help="--measure: timed trials (3)", min=1)] = None,
    threads: Annotated[Optional[int], typer.Option(help="--measure: CPU threads", min=1)] = None,
    runtime: RuntimeOpt = "eager",
    profile: ProfileOpt = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Evaluate every point of a space (flops, bytes, intensity, DI, and the bound: waterline
    latency, images/s, utilization; on a GPU the estimate beside it: what --runtime will likely
    measure; with --measure also timed images/s) and commit each to the store; a rerun resumes where
    a killed one stopped, and gives stored rows the estimate they lack. The store is locked while
    written: a second sweep into it is refused."""
    timing = [flag for flag, value in (("--iters", iters), ("--trials", trials), ("--threads", threads))
              if value is not None]
    if timing and measure is None:  # they only time points: never ignore them silently
        fail(f"{', '.join(timing)} set how points are timed; give --measure cpu (or cuda) too, or leave "
             f"them out")
    iters, trials = iters or 10, trials or 3
    request = ops.SweepRequest(
        _space(name, grid, dataset), store, device, dtype, tuple(guarded(lambda: numbers(batch, int, "--batch", "1,64"))),
        points, sample, seed, evaluator, table, data, epochs, lr, per_class, runs, method, workers, scheduler,
        measure, iters, trials, threads, runtime, profile)
    out = check_out(out, [store, *request.inputs()])
    emit(call(f"sweep {name}", ops.run_sweep, request), format, out, inputs=[store, *request.inputs()])


@app.command()
def results(
    store: StoreArg,
    format: Annotated[Literal["table", "csv", "json"], typer.Option("--format", help="table, csv or json")] = "csv",
    limit: Annotated[Optional[int], typer.Option(help="table: only the first N rows", min=1)] = None,
    out: OutOpt = None,
) -> None:
    """Export a results store: one record per point, batch, dtype, device and evaluator."""
    out = check_out(out, [store])
    emit(guarded(lambda: ops.run_results(store, limit)), format, out, inputs=[store])


@app.command()
def pareto(
    store: StoreArg,
    objectives: Annotated[str, typer.Option(help="NAME:max|min, comma-separated (throughput = images/s)")]
    = "accuracy:max,throughput:max",
    batch: Annotated[Optional[int], typer.Option(help="only rows of this batch")] = None,
    dtype: Annotated[Optional[str], typer.Option(help="only rows of this dtype")] = None,
    device: Annotated[Optional[str], typer.Option(help="only rows of this device")] = None,
    evaluator: Annotated[Optional[str], typer.Option(help="only rows of this evaluator")] = None,
    plots: PlotsOpt = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """The non-dominated points of a store and their hypervolume (moocore), seed 003 Fig. 1."""
    out = check_out(out, [store])
    request = ops.ParetoRequest(store, objectives, batch, dtype, device, evaluator, plots)
    emit(guarded(lambda: ops.run_pareto(request)), format, out, inputs=[store])


@app.command()
def search(
    name: SpaceArg,
    table: Annotated[Path, typer.Option(help="accuracies (CSV/JSON): the table evaluator")],
    device: DeviceOpt = None,
    strategy: Annotated[_choices(STRATEGIES), typer.Option(help=STRATEGIES.choices_help())] = "filter",
    budget_evals: Annotated[int, typer.Option(help="accuracy evaluations to spend", min=1)] = 100,
    budget_hours: Annotated[Optional[float], typer.Option(help="also stop after this many hours")] = None,
    batch: Annotated[int, typer.Option(help="batch of the throughput prediction", min=1)] = 1,
    dtype: DtypeOpt = None,
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
    request = ops.SearchRequest(_space(name, grid, dataset), table, device, strategy, budget_evals, budget_hours,
                                batch, dtype, g_t, w, seed, split_name)
    out = check_out(out, request.inputs())
    emit(call(f"search {name} ({strategy})", ops.run_search, request), format, out, inputs=request.inputs())


@app.command()
def changes(
    model: Annotated[str, typer.Argument(help="nin (seed 002's running example)")] = "nin",
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Seed 002 Table 4.1: local and global changes to NiN and their ratios of output, params and
    computation, beside the seed's."""
    out = check_out(out)
    emit(guarded(lambda: ops.run_changes(model)), format, out)


@app.command()
def survey(
    data: Annotated[Path, typer.Option(help="folder of timm's results/ files: results-imagenet.csv and "
                                            "benchmark-infer-amp-nchw-*.csv")],
    store: Annotated[Path, typer.Option(help="results store caching each model's analysis")] = Path("survey.db"),
    device: Annotated[Literal.__getitem__(tuple(BENCHMARKS)), typer.Option(help="which timm benchmark")] = "rtx4090",
    limit: Annotated[Optional[int], typer.Option(help="only the first N benchmarked models", min=1)] = None,
    fold: Annotated[int, typer.Option(help="predict folding for the N lowest-intensity models", min=0)] = 5,
    f: Annotated[int, typer.Option("-f", help="folding factor", min=2)] = 4,
    plots: PlotsOpt = None,
    runtime: Annotated[_runtime_choices(), typer.Option(
        help="the estimate's runtime, and timm's table it is compared with: eager (the eager benchmark) "
             "or compiled (the torch.compile 'dynamo' one)")] = "eager",
    profile: ProfileOpt = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Seed 003's survey on timm's published ImageNet accuracies and GPU benchmark: utilization,
    the three 2-D frontiers, the intensity split at op:byte and predicted folding; each model's
    bound, estimate (--runtime, --profile) and measurement side by side, and how the estimates
    compare with the measurements."""
    request = ops.SurveyRequest(data, store, device, limit, fold, f, plots, runtime, profile)
    out = check_out(out, request.inputs(), data_folders=[data])
    emit(call("survey", ops.run_survey, request), format, out, inputs=request.inputs())
