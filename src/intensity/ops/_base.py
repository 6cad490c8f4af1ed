"""What every operation shares: the model request (one dataclass for the options that name a model,
its input, batch, dtype, device and fusion) and the result protocol every operation returns.

An operation is one function per command: `run_<command>(request, ...) -> <Command>Result`. It
validates, computes and returns a typed result; it never prints. The CLI, a web page or a Dask
worker calls the same function and serializes the same result:

- `to_dict()`  -> plain JSON values (what `--format json` writes);
- `to_rows()`  -> a list of flat records (what `--format csv` writes, one row each);
- `grids()`    -> `report.tables.Grid`s (what `--format table` draws);
- `notes` / `warnings`: one-line texts the front end shows beside the result.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from intensity.config import defaults


@dataclass(frozen=True)
class ModelRequest:
    """The options shared by every command that takes a model (one definition, reused).

    `dtype` and `device` default to the user's configured defaults (intensity.config), so every
    command gives the same numbers for the same model unless told otherwise.
    """

    model: Any                      # zoo name, 'torchvision:NAME', 'timm:NAME', 'file.py:fn', or an nn.Module
    batch: int = 1
    input_shape: Any = None         # '3x224x224', a tuple, or None for the model's own
    dtype: str = field(default_factory=lambda: defaults().dtype)
    device: Any = field(default_factory=lambda: defaults().device)
    peak_tflops: float | None = None
    bandwidth_gbs: float | None = None
    fusion: str = "trivial"
    blocks: tuple[str, ...] = ()
    attention: str = "flash"

    def but(self, **changes: Any) -> ModelRequest:
        """A copy with some fields changed (e.g. another batch)."""
        return replace(self, **changes)


@runtime_checkable
class Result(Protocol):
    """What every operation returns (see the module docstring)."""

    notes: list[str]
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]: ...

    def to_rows(self) -> list[dict[str, Any]]: ...

    def grids(self) -> list[Any]: ...
