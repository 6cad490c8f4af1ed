"""Accelerator specifications: dense peak flops/s per dtype, DRAM bandwidth, op:byte.

Each published device is one TOML file in `specs/` with the source of its numbers. Resolving a
name (also `cpu`, `measured` and user files) lives in `hardware/resolve.py`, which joins this
module and the micro-benchmarks.
"""
from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from intensity.dtypes import resolve_dtype
from intensity.errors import ParameterError, ParameterTypeError, check_file
from intensity.hardware.timing import Benchmark
from intensity.registry import Registry
from intensity.validate import check_positive

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
    benchmarks: tuple[Benchmark, ...] = ()  # measured specs: the micro-benchmarks behind the figures
    warnings: tuple[str, ...] = ()  # measured specs: e.g. a busy machine during the benchmarks
    vector_tflops: dict[str, float] = field(default_factory=dict)  # peak without tensor cores, per dtype
    sms: int | None = None  # streaming multiprocessors: the wave size of tiled GEMMs
    base_clock_mhz: float | None = None  # datasheet base clock: what a GPU holds under a full load
    boost_clock_mhz: float | None = None  # the clock the datasheet's peaks are quoted at

    def peak_flops(self, dtype: str) -> float:
        """Peak flops/s for `dtype`; tf32 on a device without TF32 units is an error, not fp32."""
        name = resolve_dtype(dtype).name
        if name not in self.peak_tflops:
            known = ", ".join(sorted(self.peak_tflops)) or "none"
            raise ValueError(f"{self.key} has no published {name} peak (it has: {known}); choose "
                             f"another `dtype` or `device`")
        return self.peak_tflops[name] * 1e12

    def vector_flops(self, dtype: str) -> float:
        """Peak flops/s of work that cannot use tensor cores (depthwise convs, pools, norms): the
        spec's `vector_tflops` for `dtype`, else its fp32 peak (CUDA cores run at least that), else
        the dtype's own peak (a device without separate tensor units)."""
        name = resolve_dtype(dtype).name
        table = self.vector_tflops or {}
        if name in table:
            return table[name] * 1e12
        if "fp32" in table:
            return table["fp32"] * 1e12
        return min(self.peak_flops(dtype), self.peak_tflops.get("fp32", math.inf) * 1e12)

    @property
    def bandwidth(self) -> float:
        """Bytes per second."""
        return self.bandwidth_gbs * 1e9

    @property
    def sustained_clock_ratio(self) -> float:
        """Base over boost clock: the share of the datasheet peaks a GPU's clock sustains under a full
        load (its power limit holds it near the base clock); 1 when the spec gives no clocks."""
        if self.base_clock_mhz is None or self.boost_clock_mhz is None:
            return 1.0
        return self.base_clock_mhz / self.boost_clock_mhz

    @property
    def sm_cycles_per_s(self) -> float | None:
        """SM clock cycles per second over all SMs at the base clock: what bounds the bytes a
        kernel's loads and stores can issue; None when the spec lacks SMs or clocks."""
        if self.sms is None or self.base_clock_mhz is None:
            return None
        return self.sms * self.base_clock_mhz * 1e6

    def op_byte(self, dtype: str) -> float:
        """Peak flops/s over bandwidth (seed 001's op:byte; seeds 003-004 call it CMR)."""
        return op_byte(self.peak_flops(dtype), self.bandwidth)

    def with_overrides(self, dtype: str, peak_tflops: float | None = None,
                       bandwidth_gbs: float | None = None) -> HardwareSpec:
        """A copy with the user's peak (for `dtype`) and/or bandwidth in place of the published ones."""
        changes: dict[str, Any] = {}
        notes = list(self.overrides)
        if peak_tflops is not None:
            peak_tflops = check_positive(peak_tflops, "peak_tflops", unit="TFLOP/s", example="125")
            changes["peak_tflops"] = {**self.peak_tflops, resolve_dtype(dtype).name: peak_tflops}
            notes.append(f"peak {peak_tflops} TFLOP/s ({resolve_dtype(dtype).name}) set by user")
        if bandwidth_gbs is not None:
            bandwidth_gbs = check_positive(bandwidth_gbs, "bandwidth_gbs", unit="GB/s", example="900")
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
        if self.base_clock_mhz is not None:
            result["clocks_mhz"] = {"base": self.base_clock_mhz, "boost": self.boost_clock_mhz}
        if self.overrides:
            result["overrides"] = list(self.overrides)
        for run in self.benchmarks:  # measured specs: how far the trials agreed, and the threads
            kind = "peak" if run.unit == "TFLOP/s" else "bandwidth"
            result[f"{kind}_spread"] = run.spread
            result["threads"] = run.threads
        if self.warnings:
            result["warnings"] = list(self.warnings)
        return result


def check_device(device: object) -> str | HardwareSpec:
    """A device is a name, a .toml path (str or Path) or a HardwareSpec: anything else is refused."""
    if isinstance(device, os.PathLike):
        device = os.fspath(device)
    if not isinstance(device, (str, HardwareSpec)):
        raise ParameterTypeError(f"`device` must be a device name, a .toml spec path or a HardwareSpec, "
                                 f"not {type(device).__name__} {device!r}; e.g. 'v100' (see `intensity devices`)")
    if isinstance(device, str) and not device.strip():
        raise ParameterError("`device` is empty; give a device name such as 'v100' (see `intensity devices`)")
    return device


FORMAT_HINT = "see any file in intensity/hardware/specs/ (e.g. v100.toml) for the format"


def _positive_number(value: Any, field_name: str, origin: str, example: str) -> float:
    """A field that must be a positive finite number; the error names the file, field and fix."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0:
        raise ValueError(f"hardware spec {origin}: {field_name} = {value!r} is not a positive number; "
                         f"write a number without quotes, e.g. {example}")
    return float(value)


def _peaks(data: dict[str, Any], origin: str, table_name: str = "peak_tflops") -> dict[str, float]:
    table = data[table_name]
    if not isinstance(table, dict) or not table:
        raise ValueError(f"hardware spec {origin}: {table_name} must be a table with one entry per dtype, "
                         f"e.g. [{table_name}] then fp16 = 125; {FORMAT_HINT}")
    peaks = {}
    for name, value in table.items():
        try:
            dtype = resolve_dtype(name).name
        except KeyError:
            raise ValueError(f"hardware spec {origin}: {table_name}.{name} names no dtype; use fp32, "
                             f"tf32, fp16, bf16 or int8") from None
        peaks[dtype] = _positive_number(value, f"{table_name}.{name}", origin,
                                         f"{name} = 125 (TFLOP/s) under [{table_name}]")
    return peaks


def _sms(data: dict[str, Any], origin: str) -> int | None:
    value = data.get("sms")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"hardware spec {origin}: sms = {value!r} must be a positive whole number "
                         f"(streaming multiprocessors), e.g. sms = 132")
    return value


def _clocks(data: dict[str, Any], origin: str) -> dict[str, float]:
    """base_clock_mhz and boost_clock_mhz: both or neither, base at most boost."""
    given = [name for name in ("base_clock_mhz", "boost_clock_mhz") if name in data]
    if not given:
        return {}
    if len(given) == 1:
        raise ValueError(f"hardware spec {origin} gives {given[0]} alone; give both base_clock_mhz and "
                         f"boost_clock_mhz (the clock the peaks are quoted at), e.g. 1590 and 1830, or neither")
    clocks = {name: _positive_number(data[name], name, origin, f"{name} = 1590") for name in given}
    if clocks["base_clock_mhz"] > clocks["boost_clock_mhz"]:
        raise ValueError(f"hardware spec {origin}: base_clock_mhz {clocks['base_clock_mhz']:g} is above "
                         f"boost_clock_mhz {clocks['boost_clock_mhz']:g}; the base clock is the lower one")
    return clocks


def _text(data: dict[str, Any], name: str, origin: str, default: str) -> str:
    value = data.get(name, default)
    if not isinstance(value, str) or (name == "key" and not value.strip()):
        raise ValueError(f'hardware spec {origin}: {name} = {value!r} must be a non-empty quoted string, '
                         f'e.g. {name} = "my-gpu"')
    return value


FIELDS = ("key", "name", "aliases", "bandwidth_gbs", "source", "notes", "counts_macs", "peak_tflops",
          "vector_tflops", "sms", "base_clock_mhz", "boost_clock_mhz", "clock_source", "vector_source")


def _refuse_unknown_fields(data: dict[str, Any], origin: str) -> None:
    """A misspelt field (`bandwith`) would otherwise be ignored and its value silently lost."""
    import difflib

    for name in data:
        if name not in FIELDS:
            close = difflib.get_close_matches(name, FIELDS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ValueError(f"hardware spec {origin}: unknown field {name!r}; {hint}the fields are "
                             f"{', '.join(FIELDS)}")


def spec_from_mapping(data: dict[str, Any], origin: str) -> HardwareSpec:
    """Build a spec from parsed TOML; bad, unknown or missing fields raise ValueError naming the
    file, the field and the fix."""
    _refuse_unknown_fields(data, origin)
    missing = [k for k in ("key", "bandwidth_gbs", "peak_tflops") if k not in data]
    if missing:
        raise ValueError(f"hardware spec {origin} lacks {', '.join(missing)}; add "
                         f"{' and '.join(missing)} ({FORMAT_HINT})")
    aliases = data.get("aliases", ())
    if not isinstance(aliases, (list, tuple)) or not all(isinstance(a, str) for a in aliases):
        raise ValueError(f'hardware spec {origin}: aliases must be a list of quoted names, e.g. '
                         f'aliases = ["my-gpu-sxm"]')
    return HardwareSpec(key=_text(data, "key", origin, ""),
                        name=_text(data, "name", origin, str(data["key"])), peak_tflops=_peaks(data, origin),
                        bandwidth_gbs=_positive_number(data["bandwidth_gbs"], "bandwidth_gbs", origin,
                                                      "bandwidth_gbs = 900 (GB/s)"),
                        source=_text(data, "source", origin, origin), notes=_text(data, "notes", origin, ""),
                        aliases=tuple(aliases), counts_macs=bool(data.get("counts_macs", False)),
                        vector_tflops=_peaks(data, origin, "vector_tflops") if "vector_tflops" in data else {},
                        sms=_sms(data, origin), **_clocks(data, origin))


def load_spec_file(path: str | Path) -> HardwareSpec:
    path = check_file(path, "hardware spec file", "give a .toml spec (see `intensity devices` for names)")
    try:
        data = tomllib.loads(path.read_text())
    except UnicodeDecodeError:
        raise ValueError(f"hardware spec file {path} is not text (TOML); give a .toml spec") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"hardware spec file {path} is not valid TOML: {error}") from None
    return _user_labelled(spec_from_mapping(data, str(path)), path)


def _user_labelled(spec: HardwareSpec, path: Path) -> HardwareSpec:
    """A user's spec named like a bundled one is labelled with its file: its figures are the user's,
    and output saying 'v100' would pass them off as the bundled V100's."""
    bundled = published_specs().get(spec.key.lower())
    if bundled is None or bundled.source == spec.source:
        return spec
    return dataclasses.replace(spec, key=f"{spec.key} ({path.name})", aliases=())


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
