"""One set of defaults for every command and API call: the dtype and device a user analyses with.

Resolved once per call, in this order (first wins):
1. environment variables `INTENSITY_DTYPE`, `INTENSITY_DEVICE`;
2. a TOML file: `INTENSITY_CONFIG` if set, else `~/.config/intensity/config.toml`, e.g.

       dtype = "bf16"
       device = "a100"

3. the built-in defaults below (fp16 on an H100: the common case of CNN inference on a
   datacenter GPU).

Every command prints the dtype and device it used in its first line, so a changed default is
never silent.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

BUILTIN_DTYPE = "fp16"
BUILTIN_DEVICE = "h100"
_KEYS = ("dtype", "device")


@dataclass(frozen=True)
class Defaults:
    dtype: str = BUILTIN_DTYPE
    device: str = BUILTIN_DEVICE
    dtype_from: str = "built-in"   # where each value came from: built-in, a file path or an env var
    device_from: str = "built-in"

    @property
    def source(self) -> str:
        """Where the values came from, for messages ('built-in', 'INTENSITY_DTYPE, ~/.config/...')."""
        return ", ".join(dict.fromkeys((self.dtype_from, self.device_from)))

    def to_dict(self) -> dict[str, str]:
        return {"dtype": self.dtype, "device": self.device, "dtype_from": self.dtype_from,
                "device_from": self.device_from, "config_file": str(config_path())}


def config_path() -> Path:
    return Path(os.environ.get("INTENSITY_CONFIG") or Path.home() / ".config" / "intensity" / "config.toml")


def defaults() -> Defaults:
    """The defaults in force now (environment, then config file, then built-in)."""
    values = _from_file(config_path())
    found = {f"{key}_from": str(config_path()) for key in values}
    for key in _KEYS:
        env = os.environ.get(f"INTENSITY_{key.upper()}", "").strip()
        if env:
            values[key] = env
            found[f"{key}_from"] = f"INTENSITY_{key.upper()}"
    return Defaults(**values, **found)


def _from_file(path: Path) -> dict[str, str]:
    if path.is_dir():
        raise ValueError(f"config file {path} is a directory, not a file; point INTENSITY_CONFIG at a "
                         f".toml file (dtype = \"fp16\", device = \"h100\")")
    if not path.is_file():
        if "INTENSITY_CONFIG" in os.environ and os.environ["INTENSITY_CONFIG"]:
            raise ValueError(f"config file {path} (INTENSITY_CONFIG) does not exist; create it or "
                             f"unset INTENSITY_CONFIG")
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"config file {path} is not valid TOML ({error}); fix it or remove it") from None
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ValueError(f"config file {path}: unknown keys {unknown}; it takes {list(_KEYS)}")
    bad = [key for key in data if not isinstance(data[key], str) or not data[key].strip()]
    if bad:
        raise ValueError(f"config file {path}: {bad} must be non-empty strings, e.g. dtype = \"fp16\"")
    return {key: data[key].strip() for key in data}
