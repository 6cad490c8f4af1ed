"""Commands that run models on this machine: measure, gap, largest-batch."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from intensity.cli._app import (
    BatchOpt, DtypeOpt, FormatOpt, InputOpt, ItersOpt, ModelArg, OnOpt, OutOpt, PeakDeviceOpt,
    ThreadsOpt, TrialsOpt, app, nonempty_path, check_out_file, emit, guarded, note, warn,
)


def measured_record(model: str, *, batch: int, input: str | None, dtype: str, on: str,  # noqa: A002
                    device: str, iters: int, trials: int, channels_last: bool = False,
                    compile: bool = False, accuracy: float | None = None,
                    threads: int | None = None) -> dict:
    """Measure one model (with a progress bar) and return the flat record tables and plots take."""
    from intensity.cli._app import progress
    from intensity.measure.measurement import measure_model

    with progress(f"measuring {model}") as report:
        measurement = guarded(lambda: measure_model(
            model, batch=batch, input_shape=input, dtype=dtype, on=on, device=device, iters=iters,
            trials=trials, channels_last=channels_last, compile=compile, accuracy=accuracy,
            threads=threads, progress=report))
    record = measurement.to_dict()
    for text in record.get("warnings", ()) or ():
        warn(f"{model}: {text}")
    return record


def _measurement_tables(records: list[dict], title: str):  # noqa: ANN202
    def tables() -> list:
        from intensity.report.tables import measurement_table

        return [measurement_table(records, title)]

    return tables


@app.command()
def measure(
    model: ModelArg,
    batch: BatchOpt = 32,
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp32",
    on: OnOpt = "cpu",
    device: PeakDeviceOpt = "measured",
    iters: ItersOpt = 10,
    trials: TrialsOpt = 3,
    channels_last: Annotated[bool, typer.Option("--channels-last")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model first")] = False,  # noqa: A002
    energy: Annotated[bool, typer.Option("--energy", help="also sample GPU power (NVML): J/image, EPP, MACs/J")] = False,
    threads: ThreadsOpt = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Measure images/s, utilization (seed 003) and the efficiency gap (seed 001) on this machine."""
    guarded(lambda: check_out_file(out))
    record = measured_record(model, batch=batch, input=input, dtype=dtype, on=on, device=device,
                             iters=iters, trials=trials, channels_last=channels_last, compile=compile,
                             threads=threads)
    if energy:
        record.update(_energy_record(model, batch, input, dtype, record["flops_per_image"] / 2, threads))
    emit(format, [record], _measurement_tables([record], f"{model}: batch {batch}, {dtype} on {on}"), out)
    if energy and "energy_note" in record:
        note(record["energy_note"])


def _energy_record(model: str, batch: int, input: str | None, dtype: str, macs: float,  # noqa: A002
                   threads: int | None) -> dict:
    from dataclasses import asdict

    from intensity.api import parse_input_shape
    from intensity.cli._app import progress
    from intensity.measure.energy import energy_unavailable, measure_energy
    from intensity.models import resolve_model

    reason = energy_unavailable()
    if reason:
        return {"energy_note": reason}

    def run(report) -> dict:  # noqa: ANN001
        resolved = resolve_model(model)
        shape = parse_input_shape(input) if input else resolved.input_shape
        return asdict(measure_energy(resolved.module, batch, shape, macs, dtype=dtype, threads=threads,
                                     progress=report))

    with progress(f"energy of {model}") as report:
        return guarded(lambda: run(report))


@app.command()
def gap(
    models: Annotated[list[str], typer.Argument(help="models of one family, smallest first")],
    accuracy: Annotated[Optional[str], typer.Option(help="their accuracies, comma-separated (needed for the plots)")] = None,
    batch: BatchOpt = 32,
    dtype: DtypeOpt = "fp32",
    on: OnOpt = "cpu",
    device: PeakDeviceOpt = "measured",
    iters: ItersOpt = 5,
    trials: TrialsOpt = 3,
    plots: Annotated[Optional[str], typer.Option(help="write the gap and Pareto figures (PNG, SVG) here; needs --accuracy",
                                                 callback=nonempty_path)] = None,
    threads: ThreadsOpt = None,
    format: FormatOpt = "table",  # noqa: A002
    out: OutOpt = None,
) -> None:
    """Ideal vs actual latency and computational efficiency for a family of models (seed 001 Fig. 1)."""
    from intensity.cli._app import check_out_dir

    accuracies = guarded(lambda: _accuracies(accuracy, len(models)))
    guarded(lambda: check_out_file(out))
    if plots is not None:
        guarded(lambda: _check_plots(plots, accuracy))
    records = [measured_record(m, batch=batch, input=None, dtype=dtype, on=on, device=device, iters=iters,
                               trials=trials, accuracy=a, threads=threads) for m, a in zip(models, accuracies)]
    emit(format, records, _measurement_tables(records, f"efficiency gap: batch {batch}, {dtype} on {on}"), out)
    if plots is not None:
        from intensity.report import plots as figures

        check_out_dir(plots, "--plots")
        figures.save(figures.gap_figure(records, f"efficiency gap, batch {batch}"), plots, "efficiency_gap")
        figures.save(figures.pareto_figure(records), plots, "pareto")
        typer.echo(f"wrote figures to {plots}", err=True)


def _check_plots(plots: Path, accuracy: str | None) -> None:
    from intensity.cli._app import check_out_dir

    if not accuracy:
        raise ValueError("--plots draws accuracy against latency: give --accuracy too")
    check_out_dir(plots, "--plots")


def _accuracies(text: str | None, count: int) -> list[float | None]:
    if not text:
        return [None] * count
    try:
        values = [float(a) for a in text.split(",")]
    except ValueError:
        raise ValueError(f"malformed --accuracy {text!r}: expected numbers such as 71.2,75.4") from None
    if len(values) != count:
        raise ValueError(f"--accuracy has {len(values)} values for {count} models")
    if any(not 0 <= v <= 100 for v in values):
        raise ValueError(f"--accuracy {text!r}: accuracies are fractions or percentages in [0, 100]")
    return values


@app.command("largest-batch")
def largest_batch_command(
    model: ModelArg,
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp16",
    on: OnOpt = "cpu",
    memory_gb: Annotated[float, typer.Option(help="--on cpu: memory budget for the estimate", min=0.001)] = 8.0,
    limit: Annotated[int, typer.Option(help="largest batch to try", min=1)] = 1 << 16,
) -> None:
    """The largest batch that fits: real runs on CUDA (until out of memory), an estimate on CPU."""
    from intensity.api import parse_input_shape
    from intensity.cli._app import progress
    from intensity.dtypes import resolve_dtype
    from intensity.measure.batch_search import cuda_fits, estimated_fits, largest_batch
    from intensity.models import resolve_model

    def search(report) -> int:  # noqa: ANN001
        resolved = resolve_model(model, meta=on != "cuda")
        shape = parse_input_shape(input) if input else resolved.input_shape
        if on == "cuda":
            if not _cuda_available():
                raise ValueError("no CUDA device here; use --on cpu for the memory estimate")
            fits = cuda_fits(resolved.module, shape, resolve_dtype(dtype).torch_dtype)
        else:
            fits = estimated_fits(resolved.module, shape, dtype, memory_gb * 1e9)
        return largest_batch(fits, limit, progress=report)

    with progress(f"largest batch of {model}") as report:
        found = guarded(lambda: search(report))
    typer.echo(str(found))
    if found >= limit:
        note(f"{found} is the search's cap (--limit), not the largest batch that fits; raise --limit to look further")


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()

