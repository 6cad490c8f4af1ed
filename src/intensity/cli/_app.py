"""The Typer app, its one-line error handling, and what every command shares: option declarations
(the model options declared once, `model_command`), output (`emit`) and progress rendering.
Commands live in the sibling modules and each calls one operation (intensity.ops); this module
holds no command and no computation.

A user error (a library ValueError/KeyError, or a usage error such as an unknown option value)
becomes one line `error: ...` on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, TypeVar

import typer
from typer import _click
from typer.core import TyperGroup

from intensity.config import BUILTIN_DEVICE, BUILTIN_DTYPE

T = TypeVar("T")


class _OneLineErrors(TyperGroup):
    """Runs commands with usage errors turned into one line on stderr (exit code 2)."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:  # noqa: ARG002
        warnings.showwarning = _one_line_warning
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _click.exceptions.NoArgsIsHelpError:
            sys.exit(0)  # the help has been shown
        except _click.exceptions.UsageError as error:
            sys.exit(_usage_error(error))
        except _click.exceptions.ClickException as error:
            typer.echo(f"error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        except Exception as error:  # a bug of ours, not the user's: one line, and how to see more
            if os.environ.get("INTENSITY_DEBUG"):
                raise
            typer.echo(f"error: internal error ({type(error).__name__}: {error}); please report it, "
                       f"with the traceback that INTENSITY_DEBUG=1 shows", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _one_line_warning(message: Warning | str, category: type, filename: str, lineno: int,  # noqa: ARG001
                      file: Any = None, line: str | None = None) -> None:  # noqa: ARG001
    """Python warnings (ours and torch's) as `warning: ...` lines, without source paths."""
    typer.echo(f"warning: {message}", err=True)


def _usage_error(error: Exception) -> int:
    context = getattr(error, "ctx", None)
    hint = f" (see `{context.command_path} --help`)" if context is not None else ""
    message = error.format_message().replace("Value error, ", "")
    typer.echo(f"error: {message}{hint}", err=True)
    return 2


app = typer.Typer(
    cls=_OneLineErrors, help="Measure, predict and raise the arithmetic intensity of CNN inference.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)


def guarded(action: Callable[[], T]) -> T:
    """Run a library call; turn its bad-input errors into a clean message and exit code 2."""
    try:
        return action()
    except (ValueError, KeyError, TypeError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        typer.echo(f"error: {flag_names(str(message))}", err=True)
        raise typer.Exit(2) from None
    except OSError as error:  # a file the user named: say which, not a traceback
        typer.echo(f"error: {error.strerror or error} ({error.filename or 'file'})", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:  # Ctrl-C: say what was kept and how to go on, not a traceback
        typer.echo(f"interrupted: {INTERRUPTED}", err=True)
        raise typer.Exit(130) from None


INTERRUPTED = ("what was committed is kept: a training run keeps its last finished epoch (continue it with "
               "--resume), a sweep, search or survey store keeps its finished rows (rerun the same command to "
               "continue); a table, plot or report file is written only when its command finishes")


# Library messages name keyword parameters in backticks (`input_shape`); on the command line the
# user typed flags, so the CLI says --input. Only these names are mapped: other backticked text
# (a command, a module path) is left alone.
_PARAMETER_FLAGS = {
    "input_shape": "--input", "blocks": "--block", "fs": "-f", "factors": "-f", "on": "--on",
    **{name: "--" + name.replace("_", "-") for name in (
        "batch", "batches", "dtype", "device", "fusion", "only", "alpha", "peak_tflops",
        "bandwidth_gbs", "attention", "phi", "rounding", "iters", "trials", "threads", "out",
        "accuracy", "op_bytes", "memory_gb", "limit", "points", "speedup", "accuracy_drop", "relative_cost",
        "warmup", "measure_batch", "top", "network", "amp", "loader_workers", "lr", "epochs", "per_class",
        "seed", "temperature", "weight", "gpu", "runtime", "published", "cache", "profile", "preset",
        "optimizer", "weight_decay", "batch_norm", "init", "schedule", "label_smoothing", "every", "initial",
        "delta", "curriculum", "teacher")},
    "f": "-f",
}
_BACKTICKED = re.compile(r"`(\w+)`")


def flag_names(message: str) -> str:
    """'give `device` too' -> 'give --device too' (parameter names only)."""
    return _BACKTICKED.sub(lambda m: _PARAMETER_FLAGS.get(m.group(1), m.group(0)), message)


def split(text: str | None) -> list[str]:
    """'a, b' -> ['a', 'b']; empty text -> []."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def numbers(text: str, kind: type, option: str, example: str) -> list:
    """Comma-separated positive ints or floats, or a ValueError naming the option and an example.

    Empty items ('2,,3') are an error, not skipped: a typo should not change the experiment.
    """
    noun = "positive integers" if kind is int else "positive numbers"
    problem = ValueError(f"malformed {option} {text!r}: expected {noun} separated by commas, "
                         f"such as {example}")
    parts = [part.strip() for part in text.split(",")]
    try:
        values = [kind(part) for part in parts]
    except ValueError:
        raise problem from None
    if not values or any(not v > 0 for v in values):
        raise problem
    return values


def factors(text: str) -> list[int]:
    """Folding factors: integers >= 1."""
    return numbers(text, int, "-f", "2,3,4")


# ---------------------------------------------------------------------------------------------
# Options shared by commands (one definition each, so help texts and defaults agree). Choices
# come from the library's registries, so a new fusion policy or attention mode needs no CLI edit.
def _choices(registry: Any) -> Any:
    return Literal.__getitem__(tuple(registry))


def _finite_positive(value: Optional[float]) -> Optional[float]:
    """--peak-tflops/--bandwidth-gbs: a finite number > 0 (inf would give op:byte 0 silently)."""
    if value is not None and not (value > 0 and value != float("inf")):
        raise typer.BadParameter(f"{value} must be a positive finite number")
    return value


def _fusion_option() -> Any:
    from intensity.cost.fusion import FUSION_POLICIES

    return Annotated[_choices(FUSION_POLICIES), typer.Option(help=f"kernel grouping: {FUSION_POLICIES.choices_help()}")]


def _attention_option() -> Any:
    from intensity.cost.attention import ATTENTION_MODES

    return Annotated[_choices(ATTENTION_MODES), typer.Option(help=f"attention: {ATTENTION_MODES.choices_help()}")]


DEFAULTS_HELP = "(default: INTENSITY_{key}, else the config file, else {builtin}; see `intensity config`)"
ModelArg = Annotated[str, typer.Argument(
    help="zoo name (intensity list-models), torchvision:NAME, timm:NAME, package.module:callable or "
         "path/to/file.py:callable")]
BatchOpt = Annotated[int, typer.Option("--batch", "-b", help="images per batch", min=1)]
InputOpt = Annotated[Optional[list[str]], typer.Option(
    "--input", help="one input's shape without the batch, e.g. 3x224x224, or with a dtype, e.g. "
                    "1x128:int64; give it once per model input (default: the model's)")]
def _dtype_names() -> str:
    from intensity.dtypes import DTYPES

    return ", ".join(DTYPES)


DtypeOpt = Annotated[Optional[str], typer.Option(
    help=f"{_dtype_names()} " + DEFAULTS_HELP.format(key="DTYPE", builtin=BUILTIN_DTYPE))]
DeviceOpt = Annotated[Optional[str], typer.Option(
    help="accelerator spec (intensity devices), a .toml file, cpu, measured or calibrated[:FILE] "
         + DEFAULTS_HELP.format(key="DEVICE", builtin=BUILTIN_DEVICE))]
PeakOpt = Annotated[Optional[float], typer.Option(
    help="override the device's peak TFLOP/s for --dtype", callback=_finite_positive)]
BandwidthOpt = Annotated[Optional[float], typer.Option(
    help="override the device's memory bandwidth (GB/s)", callback=_finite_positive)]
FusionOpt = _fusion_option()
BlockOpt = Annotated[Optional[str], typer.Option(
    help="with --fusion block: module classes or path patterns, comma-separated")]
AttentionOpt = _attention_option()
def _on_option() -> Any:
    """Where measurements run: any registered backend, `cuda:N` for the N-th GPU (checked by
    hardware.backends.select_device, so a new backend needs no CLI change)."""
    from intensity.hardware.backends import BACKENDS

    return Annotated[str, typer.Option("--on", help=f"where to run: {', '.join(BACKENDS.names())} (cuda:N for the "
                                                    f"N-th GPU)", callback=_known_backend)]


def _known_backend(value: str) -> str:
    from intensity.hardware.backends import BACKENDS

    kind = value.partition(":")[0]
    if kind not in BACKENDS:
        raise typer.BadParameter(f"{value!r} is not a backend; choose one of {', '.join(BACKENDS.names())} "
                                 f"(cuda:N for the N-th GPU)")
    return value


OnOpt = _on_option()
PeakDeviceOpt = Annotated[Optional[str], typer.Option(
    "--device", help="spec whose peak utilization is taken against [default: measured here]")]
ItersOpt = Annotated[int, typer.Option(help="batches per trial", min=1)]
TrialsOpt = Annotated[int, typer.Option(help="timed trials (median reported, spread shown)", min=1)]
ThreadsOpt = Annotated[Optional[int], typer.Option(
    help="CPU threads for the timing (default: torch's setting)", min=1)]


def nonempty_path(value: Optional[str]) -> Optional[Path]:
    """An --out/--plots value as a Path; an empty string (which Path would read as '.') is refused."""
    if value is None:
        return None
    if not str(value).strip():
        raise typer.BadParameter("is empty: give a path, e.g. results/out.json or a directory name")
    return Path(value)


OutOpt = Annotated[Optional[str], typer.Option(
    help="write to this file instead of stdout (never one of the command's inputs)", callback=nonempty_path)]
TableJson = Literal["table", "json"]
TableJsonCsv = Literal["table", "json", "csv"]
FormatOpt = Annotated[TableJsonCsv, typer.Option("--format", help="table, json or csv")]

# The model options, declared once: name -> (annotation, default). `model_command` injects them.
MODEL_OPTIONS: dict[str, tuple[Any, Any]] = {
    "batch": (BatchOpt, 1), "input": (InputOpt, None), "dtype": (DtypeOpt, None), "device": (DeviceOpt, None),
    "peak_tflops": (PeakOpt, None), "bandwidth_gbs": (BandwidthOpt, None), "fusion": (FusionOpt, "trivial"),
    "block": (BlockOpt, None), "attention": (AttentionOpt, "flash"),
}

# Commands that give a time or images/s for an accelerator give the bound and the estimate; these
# options choose the estimate's execution model and, optionally, a profile from `fit-device`.
def _runtime_option() -> Any:
    from intensity.analysis.efficiency import RUNTIMES

    return Annotated[_choices(RUNTIMES), typer.Option(help=f"the estimate's runtime: {RUNTIMES.choices_help()}")]


RuntimeOpt = _runtime_option()
ProfileOpt = Annotated[Optional[str], typer.Option(
    help="efficiency profile JSON from `intensity fit-device` (default: the device's shipped one)",
    callback=nonempty_path)]
ESTIMATE_OPTIONS: dict[str, tuple[Any, Any]] = {"runtime": (RuntimeOpt, "eager"), "profile": (ProfileOpt, None)}
AmpOpt = Annotated[bool, typer.Option(
    "--amp", help="count as torch.autocast runs it at --dtype fp16/bf16 on fp32 weights: fp32 norms and "
                  "softmax, the casts as kernels (timm's AMP benchmarks run so)")]
MeasureAmpOpt = Annotated[bool, typer.Option(
    "--amp", help="run the fp32 model under torch.autocast at --dtype fp16/bf16 (default bf16 on the CPU) "
                  "instead of casting it (timm's AMP benchmarks run so)")]


def model_command(name: str | None = None, *, model: bool = True, batch: int | None = 1, fusion: bool = True,
                  device: bool = True, device_default: str | None = None, device_help: str | None = None,
                  estimate: bool = False, amp: bool | Any = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command taking MODEL and the shared model options; it is called with a
    `ModelRequest` as its first argument instead of those options.

    `batch=None` leaves out --batch (a command sweeping batches); `fusion=False` leaves out
    --fusion/--block/--attention; `device=False` leaves out --device/--peak-tflops/--bandwidth-gbs;
    `device_default`/`device_help` replace --device's default (the configured one) and help;
    `model=False` leaves out the MODEL argument (a command over a built-in grid); `estimate=True`
    adds --runtime/--profile (commands that give times: bound and estimate); `amp=True` adds --amp
    (commands whose counts all go through `ModelRequest.analysis_kwargs`), an annotation in its
    place adds that --amp option instead (a command that runs the model under autocast)."""
    left_out = {*(() if batch is not None else ("batch",)), *(() if fusion else ("fusion", "block", "attention")),
                *(() if device else ("device", "peak_tflops", "bandwidth_gbs"))}
    options = {key: value for key, value in MODEL_OPTIONS.items() if key not in left_out}
    if estimate:
        options.update(ESTIMATE_OPTIONS)
    if amp:
        options["amp"] = (AmpOpt if amp is True else amp, False)
    if batch is not None:
        options["batch"] = (BatchOpt, batch)
    if device and (device_default or device_help):
        kind = str if device_default else Optional[str]
        options["device"] = (Annotated[kind, typer.Option(help=device_help or DeviceOpt.__metadata__[0].help)],
                             device_default)

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        own = [p for p in inspect.signature(function, eval_str=True).parameters.values() if p.name != "request"]

        @functools.wraps(function)
        def command(**kwargs: Any) -> Any:
            given = {key: kwargs.pop(key) for key in options} | {"model": kwargs.pop("model", "")}
            return function(guarded(lambda: model_request(**given)), **kwargs)

        argument = [inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=ModelArg)]
        parameters = [*(argument if model else []), *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own),
                      *(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
                        for key, (annotation, default) in options.items())]
        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        del command.__wrapped__  # Typer must read the signature above, not the function's
        app.command(name)(command)
        return function

    return decorate


def model_request(model: str, **given: Any) -> Any:
    """The ModelRequest for the parsed model options (the CLI's names -> the request's fields)."""
    from intensity.ops import ModelRequest

    fields = {"input_shape": given.pop("input", None), "blocks": tuple(split(given.pop("block", None)))}
    if given.get("profile") is not None:
        given["profile"] = str(given["profile"])
    return ModelRequest(model, **fields, **given)


# ---------------------------------------------------------------------------------------------
# Output
def given(parameter: str) -> bool:
    """Whether the user typed the current command's `parameter` (not left at its default)."""
    from typer._click.globals import get_current_context

    source = get_current_context().get_parameter_source(parameter)
    return getattr(source, "name", "DEFAULT") not in ("DEFAULT", "DEFAULT_MAP")


def fail(message: str) -> None:
    """Stop a command with a one-line error and exit code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def check_out(out: str | Path | None, inputs: Iterable[Any] = (), *, option: str = "--out",
              directory: bool = False, data_folders: Iterable[Any] = ()) -> Path | None:
    """Before any work: `out` is refused (one line, exit 2) if it is an input of the command, a
    device, FIFO or directory, or not writable (intensity.output.check_output)."""
    if out is None:
        return None
    from intensity.output import check_output

    return guarded(lambda: check_output(out, inputs=inputs, option=option, directory=directory,
                                        data_folders=data_folders))


def emit(result: Any, fmt: str, out: str | Path | None = None, *legacy: Any, inputs: Iterable[Any] = (),
         csv_text: Callable[[], str] | None = None) -> None:
    """The one way commands print results: `result.to_dict()` as JSON, `result.to_rows()` as CSV,
    or its header line and `result.grids()` as tables; to stdout, or to `out` through
    intensity.output (never onto one of `inputs`). Then its notes and warnings, one line each."""
    from intensity.ops._serialize import to_csv, to_json

    if isinstance(result, str):  # transitional: the old emit(fmt, data, tables, out, csv_text)
        return emit_legacy(result, fmt, out, *legacy, csv_text=csv_text)

    if fmt == "json":
        _write(to_json(result.to_dict()), out, inputs)
    elif fmt == "csv":
        _write(to_csv(result.to_rows()), out, inputs)
    else:
        _draw(result, out, inputs)
    for text in getattr(result, "notes", ()):
        note(flag_names(text))
    for text in getattr(result, "warnings", ()):
        warn(flag_names(text))


def _draw(result: Any, out: str | Path | None, inputs: Iterable[Any]) -> None:
    from rich.console import Console

    from intensity.report.tables import Grid, rich_table

    wide = out is not None or not sys.stdout.isatty()  # files and pipes get the whole table
    console = Console(record=out is not None, width=180 if wide else None,
                      file=io.StringIO() if out is not None else None)
    header = result.header() if hasattr(result, "header") else None
    if header:
        console.print(header, markup=False, highlight=False, soft_wrap=True)
    for grid in result.grids():
        console.print(rich_table(grid) if isinstance(grid, Grid) else grid)
    if out is not None:
        _write(console.export_text(), out, inputs)


def _write(text: str, out: str | Path | None, inputs: Iterable[Any] = ()) -> None:
    """To stdout, or atomically to `out` (intensity.output.write_atomic)."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from intensity.output import write_atomic

    written = guarded(lambda: write_atomic(out, text, inputs=inputs))
    typer.echo(f"wrote {out}" + ("" if str(written) == str(Path(out).absolute()) else f" ({written})"), err=True)


def note(text: str) -> None:
    typer.echo(f"note: {text}", err=True)


def warn(text: str) -> None:
    typer.echo(f"warning: {text}", err=True)


# ---------------------------------------------------------------------------------------------
# Progress
def call(description: str, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one operation with a progress display (passed as `progress=`) and bad-input errors
    turned into one line and exit code 2."""
    with progress(description) as report:
        return guarded(lambda: operation(*args, progress=report, **kwargs))


@contextlib.contextmanager
def progress(description: str) -> Iterator[Callable[[str, int, int], None]]:
    """Progress on stderr; yields the callback the library reports to: `callback(what, completed,
    total)`. On a terminal a transient rich bar; elsewhere (pipes, CI logs) a `progress:` line at
    most every few seconds, so a long command is never silent and a short one prints nothing."""
    if not sys.stderr.isatty():
        yield _line_progress(description)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def report(what: str, completed: int, total: int | None) -> None:
            bar.update(task, description=f"{description}: {what}", completed=completed,
                       total=total or None)

        yield report


def _line_progress(description: str, every: float = 5.0) -> Callable[[str, int, int], None]:
    last = [time.monotonic()]

    def report(what: str, completed: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            typer.echo(f"progress: {description}: {what} {completed}/{total or '?'}", err=True)

    return report


# ---------------------------------------------------------------------------------------------
# Transitional: the previous output helpers, for command modules not yet converted to operations
# (fold, explore, train). They go through intensity.output too; delete once nothing uses them.
def check_out_file(path: Path | None) -> None:
    if path is not None:
        from intensity.output import check_output

        check_output(path)


def check_out_dir(path: Path, option: str = "--out") -> None:
    from intensity.output import check_output

    check_output(path, option=option, directory=True)


def resolve_device(device: str | None, dtype: str | None, peak_tflops: float | None = None,
                   bandwidth_gbs: float | None = None, threads: int | None = None) -> Any:
    """A device for the library: `cpu`/`measured` micro-benchmarked here with progress."""
    from intensity.ops import ModelRequest, resolve_spec

    if device is None or device.lower() not in ("cpu", "measured"):
        return device
    request = ModelRequest("", dtype=dtype, device=device, peak_tflops=peak_tflops, bandwidth_gbs=bandwidth_gbs)
    measured, notes = call(f"measuring {device}", lambda progress: resolve_spec(
        request, threads=threads, progress=progress))
    for text in notes:
        warn(text)
    return measured.device


class _Legacy:
    """Wraps the old emit(fmt, data, tables, out, csv_text) arguments as a result."""

    def __init__(self, data: Any, tables: Callable[[], Sequence[object]], csv_text: Callable[[], str] | None):
        self.data, self.tables, self.csv_text = data, tables, csv_text
        self.notes: list[str] = []
        self.warnings: list[str] = []

    def to_dict(self) -> Any:
        return self.data

    def to_rows(self) -> Any:
        from intensity.ops._serialize import jsonable

        records = jsonable(self.data)
        return records if isinstance(records, list) else [records]

    def grids(self) -> Sequence[object]:
        return self.tables()


def emit_legacy(fmt: str, data: Any, tables: Callable[[], Sequence[object]], out: Path | None = None,
                csv_text: Callable[[], str] | None = None) -> None:
    """The previous emit signature (unconverted modules)."""
    result = _Legacy(data, tables, csv_text)
    if fmt == "csv" and csv_text is not None:
        _write(csv_text(), out)
    else:
        emit(result, fmt, out)


def to_csv(records: Sequence[dict]) -> str:
    from intensity.ops._serialize import to_csv as serialize

    return serialize(records)
