"""What every operation shares: the model request (one dataclass for the options that name a model,
its input, batch, dtype, device and fusion), the settings a result was computed with, and the
result base every operation returns.

An operation is one function per command: `run_<command>(request, ...) -> <Command>Result`. It
validates, computes and returns a typed result; it never prints. The CLI, a web page or a Dask
worker calls the same function and serializes the same result:

- `to_dict()`  -> plain JSON values (what `--format json` writes);
- `to_rows()`  -> a list of flat records (what `--format csv` writes, one row each);
- `grids()`    -> `report.tables.Grid`s (what `--format table` draws);
- `header()`   -> the first line of table output: the dtype and device used, and where each came from;
- `notes` / `warnings`: one-line texts the front end shows beside the result.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from intensity.config import defaults
from intensity.progress import Progress

GIVEN = "given"  # a setting the caller passed explicitly (not a default)
BUILT_IN = "built-in"  # a setting from the library's own defaults (intensity.config)


@dataclass(frozen=True)
class Settings:
    """The dtype and device a result was computed with, and where each came from: `given` by the
    caller, `built-in`, an environment variable or a config file path (intensity.config)."""

    dtype: str
    device: str | None
    dtype_from: str = GIVEN
    device_from: str = GIVEN
    amp: bool = False  # counted as torch.autocast runs it at `dtype`

    def line(self) -> str:
        """'dtype fp16 (built-in default), device v100' — the first line of table output."""
        device = self.device if self.device is not None else "(none)"
        amp = " under autocast (--amp)" if self.amp else ""
        return f"dtype {self.dtype}{_origin(self.dtype_from)}{amp}, device {device}{_origin(self.device_from)}"

    def to_dict(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "device": self.device, "dtype_from": self.dtype_from,
                "device_from": self.device_from, **({"amp": True} if self.amp else {})}


def _origin(source: str) -> str:
    if source == GIVEN:
        return ""
    return " (built-in default)" if source == BUILT_IN else f" (default from {source})"


def device_name(device: Any) -> str | None:
    """A device's label: a spec's key, else the name or path given."""
    if device is None:
        return None
    return str(getattr(device, "key", device))


@dataclass(frozen=True)
class ModelRequest:
    """The options shared by every command that takes a model (one definition, reused).

    `dtype` and `device` left as None take the user's configured defaults (intensity.config), so
    every command gives the same numbers for the same model unless told otherwise; `settings()`
    says which values were used and where they came from.
    """

    model: Any                      # zoo name, 'torchvision:NAME', 'timm:NAME', 'file.py:fn', or an nn.Module
    batch: int = 1
    input_shape: Any = None         # '3x224x224', a tuple, or None for the model's own
    dtype: str | None = None
    device: Any = None              # a spec name, a .toml path, 'cpu', 'measured', 'calibrated[:FILE]' or a spec
    peak_tflops: float | None = None
    bandwidth_gbs: float | None = None
    fusion: str = "trivial"
    blocks: tuple[str, ...] = ()
    attention: str = "flash"
    runtime: str = "eager"          # the estimate's execution model: eager or compiled
    profile: str | None = None      # an efficiency profile JSON (fit-device); None: the device's own
    amp: bool = False               # count as torch.autocast runs it (analyze, roofline, waterline, sweep-batch)
    dtype_from: str = ""            # filled in: GIVEN, or where the default came from
    device_from: str = ""

    def __post_init__(self) -> None:
        if self.dtype is None or self.device is None:
            configured = defaults()
            if self.dtype is None:
                object.__setattr__(self, "dtype", configured.dtype)
                object.__setattr__(self, "dtype_from", configured.dtype_from)
            if self.device is None:
                object.__setattr__(self, "device", configured.device)
                object.__setattr__(self, "device_from", configured.device_from)
        object.__setattr__(self, "dtype_from", self.dtype_from or GIVEN)
        object.__setattr__(self, "device_from", self.device_from or GIVEN)
        if self.dtype_from != GIVEN:
            check_default_dtype(self.dtype, self.dtype_from)
        blocks = self.blocks.split(",") if isinstance(self.blocks, str) else self.blocks  # not its letters
        object.__setattr__(self, "blocks", tuple(b.strip() for b in blocks or () if str(b).strip()))

    def but(self, **changes: Any) -> ModelRequest:
        """A copy with some fields changed (e.g. another batch, or a measured device)."""
        return replace(self, **changes)

    def settings(self) -> Settings:
        return Settings(self.dtype, device_name(self.device), self.dtype_from, self.device_from, self.amp)

    def input_files(self) -> list[str]:
        """Files this request reads (a user spec .toml, a calibration file, a model file): an
        output must never overwrite them."""
        files = []
        if isinstance(self.device, (str, Path)):
            text = str(self.device)
            if text.endswith(".toml") or Path(text).is_file():
                files.append(text)
            elif text.startswith("calibrated:"):
                files.append(text.split(":", 1)[1])
        if self.profile:
            files.append(str(self.profile))
        from intensity.models import user_source_file

        source = user_source_file(self.model) if isinstance(self.model, str) else None
        if source:  # FILE.py:NAME, or module:NAME's file
            files.append(source)
        return files

    def estimate_kwargs(self) -> dict[str, Any]:
        """What `analysis.predict` needs beyond the analysis: the estimate's runtime and profile."""
        return {"runtime": self.runtime, "profile": self.profile}

    def analysis_kwargs(self) -> dict[str, Any]:
        """The keyword arguments `api.analyze` and `analysis.predict` share."""
        return {"batch": self.batch, "input_shape": self.input_shape, "dtype": self.dtype,
                "fusion": self.fusion, "blocks": list(self.blocks), "attention": self.attention,
                **({"amp": True} if self.amp else {})}


@dataclass(frozen=True, kw_only=True)
class TimingOptions:
    """How a command times models on this machine (measure, gap, bench-fold, report --measure): one
    definition for every request that runs models. Keyword-only, so a request that extends it keeps
    its own positional fields (`MeasureRequest(model)`, `BenchFoldRequest(model, factors)`)."""

    on: str = "cpu"                 # where the models run: cpu or cuda
    iters: int = 10                 # batches per timed trial
    trials: int = 3                 # timed trials (median reported, spread shown)
    channels_last: bool = False
    compile: bool = False           # torch.compile each model first
    threads: int | None = None      # CPU threads for the timing (None: torch's default)


def check_default_dtype(dtype: str, origin: str) -> None:
    """A configured default dtype that is unknown fails naming where it was set (not as if given)."""
    from intensity.dtypes import resolve_dtype

    try:
        resolve_dtype(dtype)
    except (ValueError, KeyError) as error:
        text = error.args[0] if isinstance(error, KeyError) and error.args else error
        raise ValueError(f"{text} (the default dtype, set by {origin}; see `intensity config`)") from None


MEASURED_DEVICES = ("cpu", "measured")  # devices whose figures are micro-benchmarked on this machine


def resolve_spec(request: ModelRequest, *, threads: int | None = None,
                 progress: Progress | None = None) -> tuple[ModelRequest, list[str]]:
    """The request with its device resolved to a HardwareSpec for its dtype, with the
    --peak-tflops/--bandwidth-gbs overrides applied, and the spec's warnings (a busy machine).

    `cpu`/`measured` are micro-benchmarked now (a few seconds, reported to `progress`). A device
    without a peak for the dtype fails here, before any model is built."""
    from intensity.analysis.predict import check_profile_is_used
    from intensity.hardware import get_spec

    check_profile_is_used(request.profile, request.device)  # before a CPU's seconds of micro-benchmarks
    try:
        spec = get_spec(request.device, request.dtype, request.peak_tflops, request.bandwidth_gbs,
                        threads=threads, progress=progress)
    except (ValueError, KeyError) as error:
        if request.device_from == GIVEN or not isinstance(request.device, str):
            raise
        text = error.args[0] if isinstance(error, KeyError) and error.args else error
        raise ValueError(f"{text} (the default device, set by {request.device_from}; see "
                         f"`intensity config`)") from None
    spec.op_byte(request.dtype)
    resolved = request.but(device=spec, peak_tflops=None, bandwidth_gbs=None)
    return resolved, list(getattr(spec, "warnings", ()))


@runtime_checkable
class Result(Protocol):
    """What every operation returns (see the module docstring)."""

    notes: list[str]
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]: ...

    def to_rows(self) -> list[dict[str, Any]]: ...

    def grids(self) -> list[Any]: ...


@dataclass
class OpResult:
    """A base for results: settings, notes and warnings, and defaults for the protocol.

    Subclasses define `to_dict()` and `grids()`; `to_rows()` defaults to one row, the dict."""

    settings: Settings | None = field(default=None, kw_only=True)
    notes: list[str] = field(default_factory=list, kw_only=True)
    warnings: list[str] = field(default_factory=list, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_rows(self) -> list[dict[str, Any]]:
        return [self.to_dict()]

    def grids(self) -> list[Any]:
        return []

    def header(self) -> str | None:
        """The first line of table output: the settings used (None for commands without any)."""
        return self.settings.line() if self.settings else None

    def settings_dict(self) -> dict[str, Any]:
        """The settings as JSON keys (empty without settings)."""
        return self.settings.to_dict() if self.settings else {}


__all__ = ["GIVEN", "MEASURED_DEVICES", "resolve_spec", "ModelRequest", "OpResult", "Progress", "Result", "Settings", "device_name"]
