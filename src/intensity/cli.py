"""The `intensity` command: thin commands over the library.

Library errors (ValueError, KeyError) become a one-line `error: ...` on stderr and exit code 2.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional, TypeVar

import typer
from rich.console import Console

from intensity.cost.reuse import DEFAULT_ALPHA

app = typer.Typer(
    help="Measure, predict and raise the arithmetic intensity of CNN inference.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
T = TypeVar("T")
FORMATS = ("table", "json", "csv")


def _guarded(action: Callable[[], T]) -> T:
    """Run a library call; turn its bad-input errors into a clean message and exit code 2."""
    try:
        return action()
    except (ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2) from None


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        typer.echo(f"wrote {out}", err=True)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _render_tables(*tables: object, out: Path | None) -> None:
    wide = out is not None or not sys.stdout.isatty()  # files and pipes get the whole table
    console = Console(record=out is not None, width=180 if wide else None)
    for table in tables:
        console.print(table)
    if out is not None:
        _emit(console.export_text(), out)


@app.command()
def analyze(
    model: Annotated[str, typer.Argument(help="zoo name, torchvision:NAME, timm:NAME or package.module:callable")],
    batch: Annotated[int, typer.Option("--batch", "-b", help="images per batch")] = 1,
    input: Annotated[Optional[str], typer.Option("--input", help="one image's shape, e.g. 3x224x224 (default: the model's)")] = None,  # noqa: A002
    dtype: Annotated[str, typer.Option(help="fp32, tf32, fp16, bf16 or int8")] = "fp32",
    device: Annotated[Optional[str], typer.Option(help="accelerator spec (see `intensity devices`), a .toml file, cpu or measured")] = None,
    fusion: Annotated[str, typer.Option(help="none, trivial or block")] = "trivial",
    block: Annotated[Optional[str], typer.Option(help="with --fusion block: module classes or path patterns, comma-separated")] = None,
    only: Annotated[Optional[str], typer.Option(help="keep only these kernel kinds, e.g. conv,linear")] = None,
    alpha: Annotated[float, typer.Option(help="DI's activation-reuse weight (seed 004)")] = DEFAULT_ALPHA,
    peak_tflops: Annotated[Optional[float], typer.Option(help="override the device's peak for --dtype")] = None,
    bandwidth_gbs: Annotated[Optional[float], typer.Option(help="override the device's bandwidth")] = None,
    top: Annotated[Optional[int], typer.Option(help="table: show only the N kernels moving the most bytes")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json or csv")] = "table",  # noqa: A002
    out: Annotated[Optional[Path], typer.Option(help="write to this file instead of stdout")] = None,
) -> None:
    """Count every kernel's flops and DRAM bytes, intensity and reuse."""
    from intensity.api import analyze as run_analysis

    _guarded(lambda: _check_format(format))
    report = _guarded(lambda: run_analysis(
        model, batch=batch, input_shape=input, dtype=dtype, device=device, fusion=fusion,
        blocks=_split(block), only=_split(only), alpha=alpha, peak_tflops=peak_tflops,
        bandwidth_gbs=bandwidth_gbs))
    if format == "json":
        _emit(report.to_json(), out)
    elif format == "csv":
        _emit(report.to_csv(), out)
    else:
        from intensity.report.tables import kernel_table, totals_table

        _render_tables(kernel_table(report, top), totals_table(report), out=out)
        for note in report.notes:
            typer.echo(f"note: {note}", err=True)


# Options shared by the prediction commands.
ModelArg = Annotated[str, typer.Argument(help="zoo name, torchvision:NAME, timm:NAME or package.module:callable")]
InputOpt = Annotated[Optional[str], typer.Option("--input", help="one image's shape, e.g. 3x224x224")]
DtypeOpt = Annotated[str, typer.Option(help="fp32, tf32, fp16, bf16 or int8")]
DeviceOpt = Annotated[str, typer.Option(help="accelerator spec, a .toml file, cpu or measured")]
FusionOpt = Annotated[str, typer.Option(help="none, trivial or block")]
BlockOpt = Annotated[Optional[str], typer.Option(help="with --fusion block: module classes or path patterns")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table or json")]


def _json(value: object) -> str:
    import json
    from dataclasses import asdict

    return json.dumps(asdict(value) if not isinstance(value, list) else [asdict(v) for v in value],
                      indent=2)


@app.command()
def roofline(
    model: ModelArg,
    device: DeviceOpt,
    batch: Annotated[int, typer.Option("--batch", "-b")] = 1,
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp16",
    fusion: FusionOpt = "trivial",
    block: BlockOpt = None,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Roofline per kernel, waterline latency and efficiency, and Amdahl's roofline (seed 001)."""
    from intensity.analysis.predict import predict

    prediction = _guarded(lambda: predict(model, device=device, dtype=dtype, batch=batch, input_shape=input,
                                          fusion=fusion, blocks=_split(block)))
    report, line = prediction.report, prediction.line
    if format == "json":
        _emit(_json(line), None)
    else:
        from intensity.report.tables import roofline_table

        title = f"{report.model}: batch {batch}, {report.dtype} on {report.device['name']}, fusion {fusion}"
        _render_tables(*roofline_table(line, title), out=None)


@app.command("waterline")
def waterline_command(
    model: ModelArg,
    device: DeviceOpt,
    batch: Annotated[int, typer.Option("--batch", "-b")] = 128,
    dtype: DtypeOpt = "fp16",
    fusion: FusionOpt = "trivial",
    block: BlockOpt = None,
    op_bytes: Annotated[str, typer.Option(help="processor op:byte ratios to compare")] = "25,50,100,139,200,300,400,600",
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Waterline vs the roofline of the mediant over processor op:byte ratios (seed 001 Fig. 4)."""
    from intensity.analysis.roofline import efficiency_vs_op_byte
    from intensity.api import analyze as run_analysis

    def run() -> list[tuple[float, float, float]]:
        ratios = _numbers(op_bytes, float, "--op-bytes", "25,139,600")
        report = run_analysis(model, batch=batch, dtype=dtype, device=device, fusion=fusion, blocks=_split(block))
        return efficiency_vs_op_byte(report.kernels, ratios)

    rows = _guarded(run)
    if format == "json":
        import json

        _emit(json.dumps([{"op_byte": r, "waterline": w, "mediant": m} for r, w, m in rows], indent=2), None)
        return
    from rich.table import Table

    table = Table(title=f"{model}: max. computational efficiency, batch {batch}, {dtype}, fusion {fusion}",
                  title_justify="left")
    for column in ("op:byte", "waterline", "roofline of the mediant"):
        table.add_column(column, justify="right")
    for ratio, water, mediant in rows:
        table.add_row(f"{ratio:g}", f"{water:.1%}", f"{mediant:.1%}")
    _render_tables(table, out=None)


@app.command("sweep-batch")
def sweep_batch_command(
    model: ModelArg,
    device: DeviceOpt,
    batches: Annotated[str, typer.Option(help="comma-separated batch sizes")] = "1,4,16,64,256,1024,4096",
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp16",
    fusion: FusionOpt = "trivial",
    block: BlockOpt = None,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Intensity, attainable utilization and predicted throughput against batch size (seed 000 Fig. 3)."""
    from intensity.analysis.sweep import sweep_batch

    def run():  # noqa: ANN202
        sizes = _numbers(batches, int, "--batches", "1,16,256")
        return sweep_batch(model, sizes, device=device, dtype=dtype, input_shape=input,
                           fusion=fusion, blocks=_split(block))

    points = _guarded(run)
    if format == "json":
        _emit(_json(points), None)
    else:
        from intensity.report.tables import sweep_table

        _render_tables(sweep_table(points, f"{model}: {dtype} on {device}, fusion {fusion}"), out=None)


@app.command("calibrate-di")
def calibrate_di(
    table: Annotated[str, typer.Argument(help="CSV: model, energy_efficiency (MACs/J) [, flops, weights, activations]")],
    batch: Annotated[int, typer.Option("--batch", "-b", help="batch for models analysed here")] = 1,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Pick DI's alpha by Pearson r against measured energy efficiency, with Fisher-z intervals."""
    from intensity.analysis.calibration import calibrate_alpha, rows_from_table

    result = _guarded(lambda: calibrate_alpha(rows_from_table(table, batch)))
    if format == "json":
        _emit(_json(result), None)
    else:
        from intensity.report.tables import calibration_tables

        _render_tables(*calibration_tables(result), out=None)


OnOpt = Annotated[str, typer.Option("--on", help="where to run: cpu or cuda")]
PeakDeviceOpt = Annotated[str, typer.Option("--device", help="spec for the peak (default: measured on this machine)")]


def _measure_one(model: str, batch: int, input: str | None, dtype: str, on: str, device: str,  # noqa: A002
                 iters: int, trials: int, channels_last: bool, compile: bool,
                 accuracy: float | None = None) -> dict:
    """Measure one model; the flat record the tables and plots take."""
    from intensity.measure.measurement import measure_model

    return measure_model(model, batch=batch, input_shape=input, dtype=dtype, on=on, device=device,
                         iters=iters, trials=trials, channels_last=channels_last, compile=compile,
                         accuracy=accuracy).to_dict()


@app.command()
def measure(
    model: ModelArg,
    batch: Annotated[int, typer.Option("--batch", "-b")] = 32,
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp32",
    on: OnOpt = "cpu",
    device: PeakDeviceOpt = "measured",
    iters: Annotated[int, typer.Option(help="batches per trial")] = 10,
    trials: Annotated[int, typer.Option(help="timed trials (median reported)")] = 3,
    channels_last: Annotated[bool, typer.Option("--channels-last")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model first")] = False,  # noqa: A002
    energy: Annotated[bool, typer.Option("--energy", help="also sample GPU power (NVML): J/image, EPP, MACs/J")] = False,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Measure images/s, utilization (seed 003) and the efficiency gap (seed 001) on this machine."""
    record = _guarded(lambda: _measure_one(model, batch, input, dtype, on, device, iters, trials,
                                           channels_last, compile))
    if energy:
        record.update(_energy_record(model, batch, input, dtype, record["flops_per_image"] / 2))
    _emit_records([record], format, f"{model}: batch {batch}, {dtype} on {on}")
    if energy and "energy_note" in record:
        typer.echo(f"note: {record['energy_note']}", err=True)


def _energy_record(model: str, batch: int, input: str | None, dtype: str, macs: float) -> dict:  # noqa: A002
    from dataclasses import asdict

    from intensity.api import parse_input_shape
    from intensity.measure.energy import energy_unavailable, measure_energy
    from intensity.models import resolve_model

    reason = energy_unavailable()
    if reason:
        return {"energy_note": reason}
    resolved = resolve_model(model)
    shape = parse_input_shape(input) if input else resolved.input_shape
    return asdict(_guarded(lambda: measure_energy(resolved.module, batch, shape, macs, dtype=dtype)))


@app.command()
def report(
    model: ModelArg,
    out: Annotated[Path, typer.Option(help="directory for report.html, report.json and figures/")],
    device: Annotated[str, typer.Option(help="accelerator spec for the predictions")] = "h100",
    batch: Annotated[int, typer.Option("--batch", "-b")] = 256,
    dtype: DtypeOpt = "fp16",
    fusion: FusionOpt = "trivial",
    block: BlockOpt = None,
    measure: Annotated[bool, typer.Option("--measure", help="also measure on this machine (--on)")] = False,
    on: OnOpt = "cpu",
    measure_batch: Annotated[int, typer.Option(help="batch for the measurement")] = 64,
) -> None:
    """Write a self-contained HTML report (figures embedded) and report.json for MODEL."""
    from intensity.report.html import write_report

    record = None
    if measure:
        measure_dtype = "fp32" if on == "cpu" else dtype  # CPUs have no fast fp16 kernels
        record = _guarded(lambda: _measure_one(model, measure_batch, None, measure_dtype, on, "measured",
                                               5, 3, on == "cuda", False))
    summary = _guarded(lambda: write_report(model, out, device=device, dtype=dtype, batch=batch,
                                            fusion=fusion, blocks=tuple(_split(block)), measure=record))
    for line in summary["advice"]:
        typer.echo(f"- {line}")
    typer.echo(f"wrote {out / 'report.html'} and {out / 'report.json'}", err=True)


@app.command()
def fold(
    model: ModelArg,
    f: Annotated[str, typer.Option("-f", "--factors", help="folding factors, comma-separated")] = "2,3,4",
    batch: Annotated[int, typer.Option("--batch", "-b")] = 1024,
    dtype: DtypeOpt = "fp16",
    device: Annotated[str, typer.Option(help="accelerator spec for the predictions")] = "v100",
    fusion: FusionOpt = "trivial",
    rounding: Annotated[str, typer.Option(help="floor or multiple-of-8")] = "floor",
    format: Annotated[str, typer.Option("--format", help="table or json (-f is the factors here)")] = "table",  # noqa: A002
) -> None:
    """Predict what folding by f buys, per layer and in total, before training (seed 000)."""
    from intensity.analysis.folding import predict_folding

    def run() -> list:
        factors = _factors(f)
        return predict_folding(model, factors, batch=batch, dtype=dtype, device=device, fusion=fusion,
                               rounding=rounding)

    predictions = _guarded(run)
    if format == "json":
        import json
        from dataclasses import asdict

        _emit(json.dumps([{**asdict(p), "speedup": p.speedup, "intensity_ratio": p.intensity_ratio}
                          for p in predictions], indent=2), None)
        return
    from intensity.report.tables import fold_tables

    _render_tables(*fold_tables(model, predictions, device, dtype), out=None)


@app.command("bench-fold")
def bench_fold(
    model: ModelArg,
    f: Annotated[str, typer.Option("-f", "--factors", help="folding factors, comma-separated")] = "2,3,4",
    batch: Annotated[int, typer.Option("--batch", "-b", help="images per step")] = 1024,
    dtype: DtypeOpt = "fp32",
    on: OnOpt = "cpu",
    device: PeakDeviceOpt = "measured",
    iters: Annotated[int, typer.Option(help="batches per trial")] = 10,
    trials: Annotated[int, typer.Option(help="timed trials (median reported)")] = 3,
    channels_last: Annotated[bool, typer.Option("--channels-last")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile each model first")] = False,  # noqa: A002
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",  # noqa: A002
) -> None:
    """Measure original vs folded throughput at the same images per step (seed 000 5)."""
    from intensity.hardware import get_spec
    from intensity.measure.folding import bench_folding
    from intensity.models import resolve_model

    def run() -> list:
        factors = _factors(f)
        resolved = resolve_model(model)
        return bench_folding(resolved.module, resolved.input_shape, factors, batch=batch, device=on, dtype=dtype,
                             peak_flops=get_spec(device, dtype).peak_flops(dtype), iters=iters, trials=trials,
                             channels_last=channels_last, compile=compile)

    results = _guarded(run)
    if format == "json":
        _emit(_json(results), None)
        return
    from rich.table import Table

    table = Table(title=f"{model}: measured, batch {batch}, {dtype} on {on}", title_justify="left")
    for column in ("f", "images/s", "with fold/unfold", "utilization", "speedup", "speedup with reshape"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(str(r.f), f"{r.images_per_s:,.0f}", f"{r.images_per_s_with_reshape:,.0f}",
                      f"{r.utilization:.1%}", f"{r.speedup:.2f}x", f"{r.speedup_with_reshape:.2f}x")
    _render_tables(table, out=None)


@app.command()
def scale(
    model: ModelArg,
    phi: Annotated[float, typer.Option(help="compound coefficient (negative: smaller)")] = -1.0,
    batch: Annotated[int, typer.Option("--batch", "-b")] = 1024,
    dtype: DtypeOpt = "fp16",
    device: Annotated[str, typer.Option(help="accelerator spec for the predictions")] = "v100",
) -> None:
    """EfficientNet compound scaling (depth alpha^phi, width beta^phi, resolution gamma^phi): before vs after."""
    from intensity.analysis.predict import predict
    from intensity.models import resolve_model
    from intensity.transforms.scaling import compound_scale

    def run() -> list[tuple[str, object, tuple]]:
        resolved = resolve_model(model)
        scaled = compound_scale(resolved.module, resolved.input_shape, phi)
        rows = []
        for label, module, shape in (("original", resolved.module, resolved.input_shape),
                                     (f"phi={phi:g}", scaled.model, scaled.input_shape)):
            p = predict(module, device=device, dtype=dtype, batch=batch, input_shape=shape)
            rows.append((label, p.report, shape, p.line))
        return rows, scaled.notes

    rows, notes = _guarded(run)
    from rich.table import Table

    table = Table(title=f"{model}: compound scaling on {device}, {dtype}, batch {batch}", title_justify="left")
    for column in ("model", "input", "params", "MFLOP/image", "intensity", "utilization", "images/s"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for label, report, shape, line in rows:
        table.add_row(label, "x".join(map(str, shape)), f"{report.totals.params:,}",
                      f"{report.totals.flops / batch / 1e6:.2f}", f"{report.totals.intensity:.1f}",
                      f"{line.efficiency:.0%}", f"{batch / line.latency:,.0f}")
    _render_tables(table, out=None)
    for note in notes:
        typer.echo(f"note: {note}", err=True)


@app.command()
def cascade(
    speedup: Annotated[float, typer.Option(help="throughput gain x of the folded specialized CNN")],
    accuracy_drop: Annotated[float, typer.Option(help="its accuracy drop a, as a fraction (0.0021 = 0.21%)")],
    relative_cost: Annotated[Optional[float], typer.Option(help="T_g / T_s of your cascade, to check it")] = None,
) -> None:
    """Seed 000 App. G: does a faster but less accurate filter speed up a filter -> general-CNN cascade?"""
    from intensity.transforms.folding import cascade_break_even

    limit = _guarded(lambda: cascade_break_even(speedup, accuracy_drop))
    typer.echo(f"the cascade gets faster while the general CNN is less than {limit:.1f}x slower than the "
               f"specialized CNN (T_g / T_s < (1 - 1/x) / a)")
    if relative_cost is not None:
        verdict = "faster" if relative_cost < limit else "slower"
        typer.echo(f"with T_g / T_s = {relative_cost:g} the cascade gets {verdict}")


@app.command("largest-batch")
def largest_batch_command(
    model: ModelArg,
    input: InputOpt = None,  # noqa: A002
    dtype: DtypeOpt = "fp16",
    on: OnOpt = "cpu",
    memory_gb: Annotated[float, typer.Option(help="--on cpu: memory budget for the estimate")] = 8.0,
    limit: Annotated[int, typer.Option(help="largest batch to try")] = 1 << 16,
) -> None:
    """The largest batch that fits: real runs on CUDA (until out of memory), an estimate on CPU."""
    from intensity.api import parse_input_shape
    from intensity.measure.batch_search import cuda_fits, estimated_fits, largest_batch
    from intensity.dtypes import resolve_dtype
    from intensity.models import resolve_model

    def search() -> int:
        resolved = resolve_model(model, meta=on != "cuda")
        shape = parse_input_shape(input) if input else resolved.input_shape
        if on == "cuda":
            if not _cuda_available():
                raise ValueError("no CUDA device here; use --on cpu for the memory estimate")
            return largest_batch(cuda_fits(resolved.module, shape, resolve_dtype(dtype).torch_dtype), limit)
        return largest_batch(estimated_fits(resolved.module, shape, dtype, memory_gb * 1e9), limit)

    typer.echo(str(_guarded(search)))


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@app.command()
def gap(
    models: Annotated[list[str], typer.Argument(help="models of one family, smallest first")],
    accuracy: Annotated[Optional[str], typer.Option(help="their accuracies, comma-separated")] = None,
    batch: Annotated[int, typer.Option("--batch", "-b")] = 32,
    dtype: DtypeOpt = "fp32",
    on: OnOpt = "cpu",
    device: PeakDeviceOpt = "measured",
    iters: Annotated[int, typer.Option(help="batches per trial")] = 5,
    trials: Annotated[int, typer.Option(help="timed trials (median reported)")] = 3,
    plots: Annotated[Optional[Path], typer.Option(help="write the gap and Pareto figures (PNG, SVG) here")] = None,
    format: FormatOpt = "table",  # noqa: A002
) -> None:
    """Ideal vs actual latency and computational efficiency for a family of models (seed 001 Fig. 1)."""
    accuracies = _guarded(lambda: _accuracies(accuracy, len(models)))
    records = [_guarded(lambda m=m, a=a: _measure_one(m, batch, None, dtype, on, device, iters, trials,
                                                        False, False, a))
               for m, a in zip(models, accuracies)]
    _emit_records(records, format, f"efficiency gap: batch {batch}, {dtype} on {on}")
    if plots is not None:
        from intensity.report import plots as figures

        figures.save(figures.gap_figure(records, f"efficiency gap, batch {batch}"), plots, "efficiency_gap")
        figures.save(figures.pareto_figure(records), plots, "pareto")
        typer.echo(f"wrote figures to {plots}", err=True)


def _numbers(text: str, kind: type, option: str, example: str) -> list:
    """Comma-separated ints or floats, or a ValueError naming the option and an example."""
    try:
        values = [kind(x) for x in _split(text)]
    except ValueError:
        values = []
    if not values:
        noun = "integers" if kind is int else "numbers"
        raise ValueError(f"malformed {option} {text!r}: expected {noun} such as {example}")
    return values


def _factors(text: str) -> list[int]:
    return _numbers(text, int, "-f", "2,3,4")


def _accuracies(text: str | None, count: int) -> list[float | None]:
    if not text:
        return [None] * count
    try:
        values = [float(a) for a in _split(text)]
    except ValueError:
        raise ValueError(f"malformed --accuracy {text!r}: expected numbers such as 71.2,75.4") from None
    if len(values) != count:
        raise ValueError(f"--accuracy has {len(values)} values for {count} models")
    return values


def _emit_records(records: list[dict], format: str, title: str) -> None:  # noqa: A002
    if format == "json":
        import json

        _emit(json.dumps(records, indent=2), None)
    else:
        from intensity.report.tables import measurement_table

        _render_tables(measurement_table(records, title), out=None)


@app.command()
def devices(
    format: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",  # noqa: A002
) -> None:
    """List the bundled accelerator specs (peak per dtype, bandwidth, op:byte)."""
    import json
    from dataclasses import asdict

    from intensity.hardware import list_specs

    specs = list_specs()
    if format == "json":
        _emit(json.dumps([asdict(s) for s in specs], indent=2), None)
    else:
        from intensity.report.tables import devices_table

        _render_tables(devices_table(specs), out=None)


@app.command("list-models")
def list_models_command(
    pattern: Annotated[str, typer.Argument(help="glob over zoo names, e.g. 'noscope-*'")] = "*",
    format: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",  # noqa: A002
) -> None:
    """List the zoo: name, family, input size, params and flops at batch 1."""
    import json

    from intensity.api import analyze as run_analysis
    from intensity.models import list_models

    rows = []
    for entry in list_models(pattern):
        report = run_analysis(entry.name, batch=1)
        rows.append((entry, report.totals.params, report.totals.flops))
    if format == "json":
        _emit(json.dumps([{"name": e.name, "family": e.family, "input_shape": list(e.input_shape),
                           "num_classes": e.num_classes, "params": p, "flops": f}
                          for e, p, f in rows], indent=2), None)
    else:
        from intensity.report.tables import models_table

        _render_tables(models_table(rows), out=None)


if __name__ == "__main__":
    app()
