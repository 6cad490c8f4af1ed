"""Resolve what a user names as a device: a bundled spec, an alias, a .toml file, `cpu` (this
machine, measured by a short micro-benchmark), `measured` (the present accelerator: CUDA when
there is one, else the CPU) or `calibrated[:FILE]` (a calibration file, hardware/calibration.py);
then apply the user's overrides."""
from __future__ import annotations

from pathlib import Path

from intensity.hardware.calibration import calibrated_spec, parse_device
from intensity.hardware.microbench import measured_spec
from intensity.hardware.spec import HardwareSpec, check_device, load_spec_file, published_specs
from intensity.progress import Progress

DETECTED = ("cpu", "measured")


def get_spec(device: str | HardwareSpec, dtype: str = "fp32", peak_tflops: float | None = None,
             bandwidth_gbs: float | None = None, *, threads: int | None = None,
             progress: Progress | None = None) -> HardwareSpec:
    """Resolve a device name, alias, spec file, `cpu`, `measured` or `calibrated[:FILE]`, then
    apply user overrides.

    `threads` and `progress` apply to `cpu`/`measured`, whose figures are micro-benchmarked now
    (a few seconds; `progress(description, completed, total)` hears of every trial)."""
    device = check_device(device)
    if isinstance(device, HardwareSpec):
        spec = device
    elif parse_device(device)[0]:  # calibrated[:FILE]: a file of measured kernel throughputs
        spec = calibrated_spec(parse_device(device)[1])
    elif device.endswith(".toml") or Path(device).is_file() or Path(device).is_dir():
        spec = load_spec_file(device)
    elif device.lower() in DETECTED:
        spec = measured_spec(device.lower(), dtype, need_peak=peak_tflops is None, threads=threads,
                             progress=progress)
    else:
        spec = published_specs()[device.lower()]
    return spec.with_overrides(dtype, peak_tflops, bandwidth_gbs)
