"""Accelerator specifications: dense peak flops/s per dtype, DRAM bandwidth, op:byte.

Each published device is one TOML file in `specs/` with the source of its numbers. Resolving a
name (also `cpu`, `measured` and user files) lives in `hardware/resolve.py`, which joins this
module and the micro-benchmarks.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from intensity.dtypes import resolve_dtype
from intensity.registry import Registry

def op_byte(peak_flops: float, bandwidth: float) -> float:
    """A processor's op:byte (seed 001; CMR in seeds 003-004): peak flops/s over bytes/s."""
    return peak_flops / bandwidth


@dataclass(frozen=True)
class HardwareSpec:
    key: str
    name: str
    peak_tflops: dict[str, float]  # dense peak per dtype, TFLOP/s (TOP/s for int8)
    bandwidth_gbs: float  # DRAM bandwidth, GB/s (1e9 bytes/s)
    source: str
    notes: str = ""
    aliases: tuple[str, ...] = ()
    counts_macs: bool = False  # the source quotes MACs/s; we store flops (2 per MAC)
    overrides: tuple[str, ...] = field(default=())

    def peak_flops(self, dtype: str) -> float:
        """Peak flops/s for `dtype`; tf32 on a device without TF32 units is an error, not fp32."""
        name = resolve_dtype(dtype).name
        if name not in self.peak_tflops:
            known = ", ".join(sorted(self.peak_tflops)) or "none"
            raise ValueError(f"{self.key} has no published {name} peak (it has: {known}); choose "
                             f"another --dtype or give --peak-tflops")
        return self.peak_tflops[name] * 1e12

    @property
    def bandwidth(self) -> float:
        """Bytes per second."""
        return self.bandwidth_gbs * 1e9

    def op_byte(self, dtype: str) -> float:
        """Peak flops/s over bandwidth (seed 001's op:byte; seeds 003-004 call it CMR)."""
        return op_byte(self.peak_flops(dtype), self.bandwidth)

    def with_overrides(self, dtype: str, peak_tflops: float | None = None,
                       bandwidth_gbs: float | None = None) -> HardwareSpec:
        """A copy with the user's peak (for `dtype`) and/or bandwidth in place of the published ones."""
        changes: dict[str, Any] = {}
        notes = list(self.overrides)
        if peak_tflops is not None:
            _check_positive("--peak-tflops", peak_tflops)
            changes["peak_tflops"] = {**self.peak_tflops, resolve_dtype(dtype).name: peak_tflops}
            notes.append(f"peak {peak_tflops} TFLOP/s ({resolve_dtype(dtype).name}) set by user")
        if bandwidth_gbs is not None:
            _check_positive("--bandwidth-gbs", bandwidth_gbs)
            changes["bandwidth_gbs"] = bandwidth_gbs
            notes.append(f"bandwidth {bandwidth_gbs} GB/s set by user")
        return dataclasses.replace(self, overrides=tuple(notes), **changes) if changes else self

    def summary(self, dtype: str) -> dict[str, Any]:
        """What a report needs: name, the dtype's peak, bandwidth and op:byte."""
        op_byte = self.op_byte(dtype)
        result = {"name": self.key, "description": self.name, "dtype": resolve_dtype(dtype).name,
                  "peak_tflops": self.peak_flops(dtype) / 1e12, "bandwidth_gbs": self.bandwidth_gbs,
                  "op_byte": op_byte, "source": self.source}
        if self.counts_macs:
            result["op_byte_macs"] = op_byte / 2
        if self.overrides:
            result["overrides"] = list(self.overrides)
        return result


def _check_positive(option: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{option} must be a positive number, got {value}")


def spec_from_mapping(data: dict[str, Any], origin: str) -> HardwareSpec:
    """Build a spec from parsed TOML, with errors that name the file and the missing key."""
    missing = [k for k in ("key", "bandwidth_gbs", "peak_tflops") if k not in data]
    if missing:
        raise ValueError(f"hardware spec {origin} lacks {', '.join(missing)}; see any file in "
                         f"intensity/hardware/specs/ for the format")
    peaks = {resolve_dtype(k).name: float(v) for k, v in data["peak_tflops"].items()}
    spec = HardwareSpec(key=data["key"], name=data.get("name", data["key"]), peak_tflops=peaks,
                        bandwidth_gbs=float(data["bandwidth_gbs"]),
                        source=data.get("source", origin), notes=data.get("notes", ""),
                        aliases=tuple(data.get("aliases", ())),
                        counts_macs=bool(data.get("counts_macs", False)))
    _check_positive(f"bandwidth_gbs in {origin}", spec.bandwidth_gbs)
    return spec


def load_spec_file(path: str | Path) -> HardwareSpec:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"hardware spec file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"hardware spec file {path} is not valid TOML: {error}") from None
    return spec_from_mapping(data, str(path))


@cache
def published_specs() -> Registry[HardwareSpec]:
    """Every bundled spec, by key and by alias."""
    registry: Registry[HardwareSpec] = Registry(
        "device", hint="run `intensity devices` for the list, or pass a spec .toml file")
    for entry in sorted(resources.files("intensity.hardware").joinpath("specs").iterdir(),
                        key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            spec = spec_from_mapping(tomllib.loads(entry.read_text()), entry.name)
            for name in (spec.key, *spec.aliases):
                registry.add(name, spec)
    return registry


def list_specs() -> list[HardwareSpec]:
    return sorted({id(s): s for _, s in published_specs().items()}.values(), key=lambda s: s.key)
