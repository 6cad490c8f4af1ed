"""Operations of device calibration: `calibrate-device` (achieved kernel throughput over a grid of
shapes on this machine) and the calibrated-vs-roofline view `roofline` gives on such a device."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intensity.ops._base import OpResult, Settings
from intensity.progress import Progress

BUSY_SPREAD = 0.10  # a grid point whose trials spread more than this was timed on a busy machine


@dataclass
class CalibrateDeviceResult(OpResult):
    """The calibration measured and the file it was saved to."""

    calibration: Any  # hardware.calibration.Calibration
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, **self.calibration.to_dict()}

    def to_rows(self) -> list[dict[str, Any]]:
        from dataclasses import asdict

        return [asdict(p) for p in self.calibration.points]

    def grids(self) -> list[Any]:
        from intensity.report.tables import calibration_summary_grid

        return [calibration_summary_grid(self.calibration, self.path)]


def run_calibrate_device(*, on: str = "cpu", dtype: str | None = None, quick: bool = False,
                         threads: int | None = None, out: str | Path | None = None,
                         progress: Progress | None = None) -> CalibrateDeviceResult:
    """Measure achieved flop/s of conv/linear kernels and bandwidth of elementwise/pool kernels on
    `on`; save it to `out` (default: ~/.cache/intensity/calibration-<host>.json)."""
    from intensity.config import defaults
    from intensity.hardware.calibration import default_path, save
    from intensity.measure.calibrate import calibrate
    from intensity.output import check_output

    settings = _settings(dtype, on, defaults())
    target = check_output(out if out is not None else default_path())
    calibration = calibrate(on, settings.dtype, quick=quick, threads=threads, progress=progress)
    path = str(save(calibration, target))
    busy = [p for p in calibration.points if p.spread > BUSY_SPREAD]
    warnings = [f"{len(busy)} of {len(calibration.points)} grid points spread > 10% across trials: the machine "
                f"was busy; calibrate again on a quieter machine for steadier predictions"] if busy else []
    use = "calibrated" if out is None else f"calibrated:{path}"
    return CalibrateDeviceResult(calibration, path, settings=settings, warnings=warnings,
                                 notes=[f"saved to {path}; use it with --device {use}"])


def _settings(dtype: str | None, on: str, configured: Any) -> Settings:
    """A calibration runs on this machine (`on`); only its dtype comes from the defaults, and on a
    CPU a defaulted dtype is fp32 (fp16 kernels there are slow emulations, not the machine's rate)."""
    if dtype is not None:
        return Settings(dtype, on)
    if on == "cpu":
        return Settings("fp32", on, dtype_from="built-in")
    return Settings(configured.dtype, on, dtype_from=configured.dtype_from)


@dataclass
class CalibratedRooflineResult(OpResult):
    """`roofline --device calibrated`: each kernel's calibrated time next to its roofline time."""

    prediction: Any  # analysis.predict.Prediction with calibrated times

    def to_dict(self) -> dict[str, Any]:
        times, report = self.prediction.calibrated, self.prediction.report
        return {"model": report.model, "batch": report.batch, "dtype": report.dtype, "device": report.device,
                **{k: v for k, v in self.settings_dict().items() if k.endswith("_from")},
                "calibrated_latency": times.line.latency, "roofline_latency": times.roofline.latency,
                "fallbacks": len(times.fallbacks), "kernels": times.kernels}

    def to_rows(self) -> list[dict[str, Any]]:
        from dataclasses import asdict

        return [asdict(k) for k in self.prediction.calibrated.kernels]

    def grids(self) -> list[Any]:
        from intensity.report.tables import calibrated_grid

        return [calibrated_grid(self.to_dict())]
