"""The Typer app, its one-line error handling, and what every command shares: options, output
(`emit`) and progress bars. Commands live in the sibling modules; this module holds no command.

A user error (a library ValueError/KeyError, or a usage error such as an unknown option value)
becomes one line `error: ...` on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, TypeVar

import typer
from typer import _click
from typer.core import TyperGroup

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
    except (ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        typer.echo(f"error: {flag_names(str(message))}", err=True)
        raise typer.Exit(2) from None
    except OSError as error:  # a file the user named: say which, not a traceback
        typer.echo(f"error: {error.strerror or error} ({error.filename or 'file'})", err=True)
        raise typer.Exit(2) from None


# Library messages name keyword parameters in backticks (`input_shape`); on the command line the
# user typed flags, so the CLI says --input. Only these names are mapped: other backticked text
# (a command, a module path) is left alone.
_PARAMETER_FLAGS = {
    "input_shape": "--input", "blocks": "--block", "fs": "-f", "factors": "-f", "on": "--on",
    **{name: "--" + name.replace("_", "-") for name in (
        "batch", "batches", "dtype", "device", "fusion", "only", "alpha", "peak_tflops",
        "bandwidth_gbs", "attention", "phi", "rounding", "iters", "trials", "threads", "out",
        "accuracy", "op_bytes", "memory_gb", "limit", "speedup", "accuracy_drop", "relative_cost",
        "warmup", "measure_batch", "lr", "epochs", "per_class", "seed", "temperature", "weight")},
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
# Options shared by commands (one definition each, so help texts and defaults agree).
ModelArg = Annotated[str, typer.Argument(
    help="zoo name (intensity list-models), torchvision:NAME, timm:NAME or package.module:callable")]
BatchOpt = Annotated[int, typer.Option("--batch", "-b", help="images per batch", min=1)]
InputOpt = Annotated[Optional[list[str]], typer.Option(
    "--input", help="one input's shape without the batch, e.g. 3x224x224, or with a dtype, e.g. "
                    "1x128:int64; give it once per model input (default: the model's)")]
DtypeOpt = Annotated[str, typer.Option(help="fp32, tf32, fp16, bf16 or int8")]
DeviceOpt = Annotated[str, typer.Option(
    help="accelerator spec (intensity devices), a .toml file, cpu or measured")]
FusionOpt = Annotated[Literal["none", "trivial", "block"], typer.Option(
    help="kernel grouping: none, trivial (bias/BN/activation/add fused) or block")]
BlockOpt = Annotated[Optional[str], typer.Option(
    help="with --fusion block: module classes or path patterns, comma-separated")]
AttentionOpt = Annotated[Literal["flash", "math"], typer.Option(
    help="attention as one fused kernel (flash) or with its scores in DRAM (math)")]
OnOpt = Annotated[Literal["cpu", "cuda"], typer.Option("--on", help="where to run: cpu or cuda")]
PeakDeviceOpt = Annotated[str, typer.Option(
    "--device", help="spec whose peak utilization is taken against (default: measured here)")]
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


OutOpt = Annotated[Optional[str], typer.Option(help="write to this file instead of stdout",
                                               callback=nonempty_path)]
TableJson = Literal["table", "json"]
TableJsonCsv = Literal["table", "json", "csv"]
FormatOpt = Annotated[TableJsonCsv, typer.Option("--format", help="table, json or csv")]


# ---------------------------------------------------------------------------------------------
# Output
def fail(message: str) -> None:
    """Stop a command with a one-line error and exit code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def check_out_dir(path: Path, option: str = "--out") -> None:
    """Fail before any work if `path` cannot be a directory we write into (existing ones are kept).

    `option` is the flag the user gave the path with (--out, --plot, --plots)."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path} is a file; give a directory (new or existing)")
    parent = _existing_parent(path / "x")
    if not parent.is_dir():
        raise ValueError(f"{option} {path}: {parent} is a file, not a directory; choose another path")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"{option} {path}: cannot write in {parent} (permission denied); choose "
                         f"a writable place")


def check_out_file(path: Path | None) -> None:
    """Fail before any work if `path` cannot be written as a file."""
    if path is None:
        return
    if path.is_dir():
        raise ValueError(f"--out {path} is a directory; give a file name such as {path / 'out.json'}")
    parent = _existing_parent(path)
    if parent.is_file() or (parent != path.parent and not parent.is_dir()):
        raise ValueError(f"--out {path}: {parent} is a file, not a directory; choose another path")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"--out {path}: cannot write in {parent} (permission denied); choose "
                         f"a writable place")


def _existing_parent(path: Path) -> Path:
    for candidate in path.absolute().parents:
        if candidate.exists():
            return candidate
    return Path("/")


def write_text(text: str, out: Path | None) -> None:
    """To stdout, or to `out` via a temporary file so a failed write leaves the old file intact."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    guarded(lambda: check_out_file(out))
    partial = out.with_name(f".{out.name}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(text)
        partial.replace(out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        fail(f"cannot write --out {out}: {error.strerror or error}; choose a writable place")
    typer.echo(f"wrote {out}", err=True)


def jsonable(data: Any) -> Any:
    """Dataclasses, objects with to_dict(), and lists of them -> plain JSON values."""
    if isinstance(data, (list, tuple)):
        return [jsonable(item) for item in data]
    if hasattr(data, "to_dict"):
        return data.to_dict()
    if is_dataclass(data) and not isinstance(data, type):
        return asdict(data)
    return data


def to_csv(records: Sequence[dict]) -> str:
    """One row per record; nested values (lists, dicts) as JSON text."""
    if not records:
        return ""
    columns = list(dict.fromkeys(key for record in records for key in record))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v
                         for k, v in record.items()})
    return buffer.getvalue()


def emit(fmt: str, data: Any, tables: Callable[[], Sequence[object]], out: Path | None = None,
         csv_text: Callable[[], str] | None = None) -> None:
    """The one way commands print results: rich tables, JSON or CSV, to stdout or `out`."""
    if fmt == "json":
        write_text(json.dumps(jsonable(data), indent=2, default=str), out)
    elif fmt == "csv":
        records = jsonable(data)
        write_text(csv_text() if csv_text else to_csv(records if isinstance(records, list) else [records]), out)
    else:
        render_tables(*tables(), out=out)


def render_tables(*tables: object, out: Path | None = None) -> None:
    from rich.console import Console

    wide = out is not None or not sys.stdout.isatty()  # files and pipes get the whole table
    console = Console(record=out is not None, width=180 if wide else None,
                      file=io.StringIO() if out is not None else None)
    for table in tables:
        console.print(table)
    if out is not None:
        write_text(console.export_text(), out)


def note(text: str) -> None:
    typer.echo(f"note: {text}", err=True)


def warn(text: str) -> None:
    typer.echo(f"warning: {text}", err=True)


# ---------------------------------------------------------------------------------------------
# Progress
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


def resolve_device(device: str | None, dtype: str, peak_tflops: float | None = None,
                   bandwidth_gbs: float | None = None, threads: int | None = None) -> Any:
    """A device for the library: `cpu`/`measured` are micro-benchmarked here, with a progress bar
    and a warning when the machine was busy; other names pass through for the library to resolve."""
    if device is None or device.lower() not in ("cpu", "measured"):
        return device
    from intensity.hardware import get_spec

    with progress(f"measuring {device}") as report:
        spec = guarded(lambda: get_spec(device, dtype, peak_tflops, bandwidth_gbs, threads=threads,
                                        progress=report))
    for text in getattr(spec, "warnings", ()):
        warn(text)
    return spec
