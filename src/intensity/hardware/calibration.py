"""A calibrated device: achieved throughput of real kernels over a grid of shapes, measured once.

A roofline gives each kernel the device's peak (or its bandwidth); real kernels reach less, and
how much less depends on their shape: a 16-channel conv vectorises poorly on a CPU. A calibration
(measured by `intensity calibrate-device`, see measure/calibrate.py) stores, per kernel kind, the
achieved rate at grid points (channels x problem size): flop/s for compute kinds, bytes/s for
memory kinds. `Calibration.rate` interpolates it bilinearly in log2(channels) and log2(size); a
kernel outside the grid gets None, and the caller falls back to the roofline and says so.

File format (JSON, `version` = FORMAT_VERSION): machine description, dtype, robust peak flop/s
and bandwidth (the best of every trial, so a roofline built on them is a lower bound on latency),
and the points. Where the file lives by default: `default_path()`.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import socket
import warnings
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intensity.errors import check_file
from intensity.hardware.backends import cpu_model
from intensity.hardware.spec import HardwareSpec
from intensity.output import write_atomic

FORMAT_VERSION = 1
COMPUTE_KINDS = ("conv1x1", "conv3x3", "depthwise", "linear")  # rate: flop/s; size: output pixels/rows
MEMORY_KINDS = ("elementwise", "pool")  # rate: bytes/s (pool: window reads/s); size: bytes moved; channels: 1
KINDS = COMPUTE_KINDS + MEMORY_KINDS


class CalibrationWarning(UserWarning):
    """A calibration that may not describe this machine (another host, CPU, torch or format)."""


@dataclass(frozen=True)
class Point:
    """One grid point: achieved rate of `kind` at `channels` x `size` (best and median of trials)."""

    kind: str
    channels: int  # conv: in = out channels (per group); linear: sqrt(in * out); memory: 1
    size: int  # compute: output pixels (batch x H x W) or rows; memory: bytes moved per call
    best: float  # flop/s (compute), bytes/s (elementwise) or window reads/s (pool): the best trial
    median: float
    spread: float = 0.0  # (max - min) / median of the trials
    batch: int = 1
    spatial: int = 0  # H = W of the measured tensor (0: not an image)


@dataclass(frozen=True)
class Calibration:
    machine: dict[str, Any]  # host, cpu, cores, threads, torch, device, date
    dtype: str
    peak_flops: float  # robust: the best trial of the matmul peak and of every compute point
    bandwidth: float  # bytes/s: the best copy trial (DRAM-sized)
    points: tuple[Point, ...]
    version: int = FORMAT_VERSION
    statistic: str = "best"  # which trial statistic predictions use (best: the least disturbed trial)
    notes: tuple[str, ...] = ()

    def rate(self, kind: str, channels: float, size: float) -> float | None:
        """Interpolated achieved rate of `kind` at (channels, size), or None outside the grid.

        Bilinear in log2(channels) and log2(size) between the measured rows; above a row's
        largest size the rate stays at that edge (large problems saturate), below its smallest
        size or outside the channel range there is no answer."""
        rows = self._rows(kind)
        if not rows or channels <= 0 or size <= 0:
            return None
        keys = sorted(rows)
        if channels < keys[0] or channels > keys[-1]:
            return None
        if len(keys) == 1:
            return _along(rows[keys[0]], size)
        i = min(max(bisect_right(keys, channels) - 1, 0), len(keys) - 2)
        low, high = _along(rows[keys[i]], size), _along(rows[keys[i + 1]], size)
        if low is None or high is None:
            return None
        return _log_lerp(keys[i], keys[i + 1], low, high, channels)

    def _rows(self, kind: str) -> dict[int, list[tuple[int, float]]]:
        rows: dict[int, list[tuple[int, float]]] = {}
        for p in self.points:
            if p.kind == kind:
                rows.setdefault(p.channels, []).append((p.size, getattr(p, self.statistic)))
        return {c: sorted(r) for c, r in rows.items()}

    def kinds(self) -> list[str]:
        return sorted({p.kind for p in self.points})

    def to_dict(self) -> dict[str, Any]:
        return {"format": "intensity-calibration", **dataclasses.asdict(self)}


def _log_lerp(x0: float, x1: float, y0: float, y1: float, x: float) -> float:
    """Interpolate y linearly in log2(x) between (x0, y0) and (x1, y1), y in log space too."""
    if x1 == x0:
        return y0
    t = (math.log2(x) - math.log2(x0)) / (math.log2(x1) - math.log2(x0))
    return 2 ** ((1 - t) * math.log2(y0) + t * math.log2(y1))


def _along(row: list[tuple[int, float]], size: float) -> float | None:
    """A row's rate at `size`: None below its first point, its last rate above its last point."""
    if size < row[0][0]:
        return None
    if size >= row[-1][0]:
        return row[-1][1]
    sizes = [s for s, _ in row]
    i = bisect_right(sizes, size) - 1
    return _log_lerp(row[i][0], row[i + 1][0], row[i][1], row[i + 1][1], size)


# --- the machine ------------------------------------------------------------------------------

def machine_description(device: str, threads: int, device_name: str | None = None) -> dict[str, Any]:
    import datetime

    import torch

    return {"host": socket.gethostname(), "cpu": cpu_model(), "cores": os.cpu_count(), "threads": threads,
            "torch": torch.__version__, "device": device, "device_name": device_name or cpu_model(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "load": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def default_path() -> Path:
    """~/.cache/intensity/calibration-<host>.json ($XDG_CACHE_HOME honoured)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "intensity" / f"calibration-{socket.gethostname()}.json"


# --- load and save ----------------------------------------------------------------------------

def save(calibration: Calibration, path: str | Path | None = None) -> Path:
    """Write the calibration (atomically, through symlinks, never onto a device: intensity.output)."""
    path = Path(path) if path is not None else default_path()
    write_atomic(path, json.dumps(calibration.to_dict(), indent=1))
    return path


def load(path: str | Path | None = None) -> Calibration:
    """Read a calibration file; a corrupt one raises ValueError naming the file, one from another
    machine, torch or format version warns (CalibrationWarning)."""
    path = Path(path) if path is not None else default_path()
    check_file(path, "calibration file", f"run `intensity calibrate-device"
               f"{'' if path == default_path() else f' --out {path}'}` first")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"calibration file {path} is not valid JSON ({error}); measure it again with "
                         f"`intensity calibrate-device --out {path}`") from None
    calibration = from_dict(data, str(path))
    for text in foreign(calibration):
        warnings.warn(f"calibration file {path}: {text}", CalibrationWarning, stacklevel=2)
    return calibration


def from_dict(data: Any, origin: str) -> Calibration:
    """Build a calibration from parsed JSON; what is missing or malformed is named with the fix."""
    fix = f"measure it again with `intensity calibrate-device --out {origin}`"
    if not isinstance(data, dict) or data.get("format") != "intensity-calibration":
        raise ValueError(f"calibration file {origin} is not an intensity calibration; {fix}")
    try:
        points = tuple(Point(**p) for p in data["points"])
        calibration = Calibration(machine=dict(data["machine"]), dtype=str(data["dtype"]),
                                  peak_flops=float(data["peak_flops"]), bandwidth=float(data["bandwidth"]),
                                  points=points, version=int(data.get("version", 0)),
                                  statistic=str(data.get("statistic", "best")),
                                  notes=tuple(data.get("notes", ())))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"calibration file {origin} is malformed ({type(error).__name__}: {error}); {fix}") from None
    return check(calibration, origin)


def check(calibration: Calibration, origin: str = "calibration") -> Calibration:
    """Reject what cannot predict anything: no points, unknown kinds, non-positive rates."""
    fix = "measure it again with `intensity calibrate-device`"
    if not calibration.points:
        raise ValueError(f"{origin} has an empty grid (no measured points); {fix}")
    if calibration.statistic not in ("best", "median"):
        raise ValueError(f"{origin}: statistic {calibration.statistic!r} must be best or median")
    for p in calibration.points:
        if p.kind not in KINDS:
            raise ValueError(f"{origin}: unknown kernel kind {p.kind!r} (known: {', '.join(KINDS)}); {fix}")
        if not (p.best > 0 and p.median > 0 and p.channels > 0 and p.size > 0):
            raise ValueError(f"{origin}: point {p.kind} c={p.channels} size={p.size} has a non-positive "
                             f"rate or shape; {fix}")
    if not (calibration.peak_flops > 0 and calibration.bandwidth > 0):
        raise ValueError(f"{origin}: peak_flops and bandwidth must be positive; {fix}")
    return calibration


def foreign(calibration: Calibration) -> list[str]:
    """Why this calibration may not describe the present machine (empty: it does)."""
    import torch

    here = {"host": socket.gethostname(), "cpu": cpu_model(), "torch": torch.__version__}
    reasons = [f"measured with format version {calibration.version}, this intensity reads version "
               f"{FORMAT_VERSION}; calibrate again"] if calibration.version != FORMAT_VERSION else []
    for key, value in here.items():
        theirs = calibration.machine.get(key)
        if theirs != value:
            reasons.append(f"measured on {key} {theirs!r}, this machine has {value!r}: predictions may "
                           f"not hold here; run `intensity calibrate-device` on this machine")
    return reasons


# --- the spec a calibrated device resolves to -------------------------------------------------

@dataclass(frozen=True)
class CalibratedSpec(HardwareSpec):
    """A HardwareSpec whose roofline uses the calibration's robust peak and bandwidth, carrying the
    calibration for per-kernel predictions (analysis/calibrated.py)."""

    calibration: Calibration | None = field(default=None, compare=False)
    path: str = ""

    def plain(self) -> HardwareSpec:
        """The same peak and bandwidth as a plain roofline spec (the upper bound on performance)."""
        base = {f.name: getattr(self, f.name) for f in dataclasses.fields(HardwareSpec)}
        return HardwareSpec(**{**base, "key": f"{self.key}-roofline"})


def calibrated_spec(path: str | Path | None = None) -> CalibratedSpec:
    """`calibrated` (the default file) or `calibrated:FILE` as a spec."""
    return spec_from_calibration(load(path), str(path) if path is not None else str(default_path()))


def spec_from_calibration(calibration: Calibration, where: str = "in memory") -> CalibratedSpec:
    """The spec of a calibration already at hand (e.g. measured in this process)."""
    machine = calibration.machine
    return CalibratedSpec(
        key="calibrated", name=f"{machine.get('device_name', '?')} ({machine.get('threads', '?')} threads), "
                               f"calibrated {machine.get('date', '?')}",
        peak_tflops={calibration.dtype: calibration.peak_flops / 1e12}, bandwidth_gbs=calibration.bandwidth / 1e9,
        source=f"calibration {where}: best of all trials (robust peak and bandwidth)",
        notes=f"{len(calibration.points)} grid points over {', '.join(calibration.kinds())}",
        warnings=tuple(foreign(calibration)), calibration=calibration, path=where)


def parse_device(device: str) -> tuple[bool, str | None]:
    """('calibrated', None) for the default file, (True, FILE) for calibrated:FILE, (False, None) else."""
    lowered = device.lower()
    if lowered == "calibrated":
        return True, None
    if lowered.startswith("calibrated:"):
        name = device.split(":", 1)[1]
        if not name:
            raise ValueError("--device calibrated: names no file; write calibrated:PATH.json or plain calibrated")
        return True, name
    return False, None
