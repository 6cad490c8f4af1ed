"""Spec -> analyze -> waterline: the one place that sequence lives (DESIGN).

Every prediction (roofline tables, batch sweeps, folding, scaling, reports) asks `predict` for the
cost report of a model on a device and the waterline of its kernels at the device's peak.
On a calibrated device (`--device calibrated[:FILE]`) the waterline is the sum of the kernels'
calibrated times (analysis/calibrated.py) and `roofline` keeps the plain one: the upper bound.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from intensity.analysis.calibrated import CalibratedTimes, calibrated_times
from intensity.analysis.efficiency import (
    RUNTIMES, EfficiencyProfile, Estimate, check_runtime, estimate, profile_for,
)
from intensity.analysis.roofline import Waterline, waterline
from intensity.api import analyze
from intensity.cost import CostReport
from intensity.hardware import HardwareSpec, get_spec


PROFILE_DTYPE = "fp16"  # the dtype of timm's AMP tables that efficiency profiles are fitted to (fit-device)
BOUND_KIND = "bound: roofline/waterline, never beaten by a correct measurement"


CALIBRATED_PROFILE = "calibrated on this machine"  # the estimate's source on `--device calibrated`


def estimate_kind(runtime: str | None, profile: str | None) -> str:
    """'estimate: what compiled PyTorch will likely measure (rtx4090 profile)'; '' without an estimate."""
    if runtime is None:
        return ""
    source = profile if profile == CALIBRATED_PROFILE else f"{profile} profile"
    return f"estimate: what {runtime} PyTorch will likely measure ({source})"


@dataclass(frozen=True)
class Prediction:
    """A model's cost report on a device and the waterline of its kernels there."""

    report: CostReport
    spec: HardwareSpec
    line: Waterline  # calibrated devices: the calibrated waterline
    calibrated: CalibratedTimes | None = None  # per-kernel calibrated times, with fallback flags
    estimate: Estimate | None = None  # what the runtime will likely measure (GPU specs only)
    estimate_note: str = ""  # why there is no estimate, or which profile it used

    @property
    def roofline(self) -> Waterline:
        """The plain roofline's waterline: an upper bound on performance (lower bound on latency)."""
        return self.calibrated.roofline if self.calibrated else self.line

    @property
    def latency(self) -> float:
        """Waterline seconds per batch (seed 001 Eqn 12)."""
        return self.line.latency

    @property
    def utilization(self) -> float:
        """Attainable utilization: the waterline's maximum computational efficiency (Eqn 13)."""
        return self.line.efficiency

    @property
    def images_per_s(self) -> float:
        """The bound's images/s: never beaten by a correct measurement."""
        return self.report.batch / self.line.latency if self.line.latency else 0.0

    @property
    def estimated_images_per_s(self) -> float | None:
        """The estimate's images/s (what eager PyTorch or torch.compile will likely measure)."""
        if self.estimate is None or not self.estimate.latency:
            return None
        return self.report.batch / self.estimate.latency

    @property
    def estimated_utilization(self) -> float | None:
        return None if self.estimate is None else self.estimate.efficiency

    @property
    def estimate_source(self) -> tuple[str | None, str | None]:
        """(runtime, profile) of the estimate: a GPU profile's, or the calibrated kernel times'."""
        if self.calibrated is not None:
            return "eager", CALIBRATED_PROFILE
        return (self.estimate.runtime, self.estimate.profile) if self.estimate is not None else (None, None)

    def bound_and_estimate(self) -> dict:
        """Both figures, labelled, for tables and JSON."""
        result = {"bound": {"latency_s": self.latency, "images_per_s": self.images_per_s,
                            "utilization": self.utilization,
                            "kind": BOUND_KIND}}
        if self.estimate is not None:
            result["estimate"] = {**self.estimate.to_dict(), "images_per_s": self.estimated_images_per_s,
                                  "utilization": self.estimated_utilization,
                                  "kind": f"estimate: what {self.estimate.runtime} PyTorch will likely measure"}
        else:
            result["estimate"] = None
        result["estimate_note"] = self.estimate_note
        return result


def predict(model: torch.nn.Module | str, *, device: str | HardwareSpec, dtype: str = "fp16",
            batch: int = 1, input_shape: str | Sequence[int] | None = None, runtime: str = "eager",
            profile: str | EfficiencyProfile | None = None, **analyze_options: object) -> Prediction:
    """Resolve the device for `dtype`, count `model` at `batch`, take the waterline (the bound) and,
    on a GPU spec, the estimate for `runtime` (eager or compiled) under its efficiency profile."""
    check_runtime(runtime)
    check_profile_is_used(profile, device)  # before a CPU's seconds of micro-benchmarks
    spec = get_spec(device, dtype)
    check_profile_is_used(profile, spec)
    report = analyze(model, batch=batch, input_shape=input_shape, dtype=dtype, device=spec,
                     **analyze_options)
    check_has_kernels(report)
    calibration = getattr(spec, "calibration", None)
    if calibration is not None:
        times = calibrated_times(report.kernels, calibration, spec.peak_flops(dtype), spec.bandwidth)
        return Prediction(report, spec, times.line, times,
                          estimate_note="calibrated device: the calibrated times are the estimate")
    line = waterline(report.kernels, spec.peak_flops(dtype), spec.bandwidth)
    if spec.benchmarks:  # cpu / measured: micro-benchmarked here, no GPU efficiency model
        return Prediction(report, spec, line, estimate_note="no GPU estimate for a CPU; use --device "
                          "calibrated for a measured CPU model")
    guess = _estimate(model, report, spec, dtype, batch, input_shape, runtime, profile, analyze_options)
    note = f"estimate: {guess.profile} profile ({guess.profile_source}); {clock_note(spec)}"
    if dtype != PROFILE_DTYPE:
        note += (f"; profiles are fitted to {PROFILE_DTYPE} (AMP) measurements, so this {dtype} estimate is an "
                 f"extrapolation their validation does not cover")
    if runtime == "compiled" and report.fusion in ("none", "trivial"):
        note += (f"; the bound counts `fusion` {report.fusion}, which torch.compile beats on chains of pointwise "
                 f"ops (EvoNorm, FRN): give --fusion inductor for a bound it never beats")
    return Prediction(report, spec, line, estimate=guess, estimate_note=note)


def clock_note(spec: HardwareSpec) -> str:
    """Which clock the estimate assumed: the base clock, or none known (then it is optimistic)."""
    if spec.base_clock_mhz is None:
        return ("the spec gives no base_clock_mhz / boost_clock_mhz, so the estimate runs at the datasheet "
                "peaks with no SM issue limit (likely optimistic): add both clocks to the spec")
    note = f"compute at the {spec.base_clock_mhz:g} MHz base clock ({spec.sustained_clock_ratio:.0%} of the peaks)"
    if spec.sustained_clock_ratio < 0.5:  # T4, L4: low-power cards whose base clock is a worst case
        note += ("; a base clock under half the boost clock is a worst case that low-power cards often beat "
                 "under load, so this estimate may be pessimistic")
    return note


def check_has_kernels(report: CostReport) -> None:
    """A model without a counted kernel has no bound or estimate: refuse it rather than print zeros."""
    if report.kernels:
        return
    if report.uncounted:
        names = ", ".join(u.op for u in report.uncounted[:5])
        why = (f"none of its ops has a cost formula ({names}); give them one with "
               f"intensity.register_op_cost (see 'The cost of your own ops' in the documentation)")
    else:
        why = "its forward pass runs no op that computes or moves data (it returns its input, or views of it)"
    raise ValueError(f"`model` {report.model} has no kernel to predict: {why}; nothing to bound or estimate")


def runtime_profile(spec: HardwareSpec, runtime: str, profile: str | EfficiencyProfile | None
                    ) -> EfficiencyProfile:
    """`profile_for`, refusing a given profile fitted for another runtime: an eager profile under
    `--runtime compiled` was applied to compiled kernels and its estimate labelled eager."""
    chosen = profile_for(spec, runtime, profile)
    if chosen.runtime == runtime:
        return chosen
    fix = f"give --runtime {chosen.runtime}, or" if chosen.runtime in RUNTIMES else "give"
    raise ValueError(f"the `profile` ({chosen.name}) is for the {chosen.runtime!r} runtime, not {runtime!r}; {fix} "
                     f"a profile written by `intensity fit-device --runtime {runtime}`")


def check_profile_is_used(profile: object, device: object) -> None:
    """A profile given for a device without a GPU estimate (cpu, measured, calibrated) would be
    silently ignored: refuse it."""
    if profile is None:
        return
    if isinstance(device, str):
        measured = device in ("cpu", "measured") or device.startswith("calibrated")
    else:
        measured = bool(device.benchmarks) or getattr(device, "calibration", None) is not None
    if measured:
        raise ValueError(f"`profile` is a GPU estimate's efficiency profile, but device "
                         f"{getattr(device, 'key', device)!r} is measured on this machine and has no GPU "
                         f"estimate; leave out --profile, or give a GPU --device")


def _estimate(model, report, spec, dtype, batch, input_shape, runtime, profile, options) -> Estimate:  # noqa: ANN001
    """The runtime's kernels (eager: every op; compiled: GEMMs plus generated epilogues) under the
    device's profile. Counted again only when the report's fusion is not the runtime's."""
    launch = RUNTIMES[runtime]
    wanted = launch.fusion
    kernels = report.kernels
    if report.fusion != wanted or report.only:
        options = {k: v for k, v in options.items() if k not in ("fusion", "blocks", "only")}
        kernels = analyze(model, batch=batch, input_shape=input_shape or report.input_shape, dtype=dtype,
                          fusion=wanted, **options).kernels
    return estimate(launch(kernels), runtime_profile(spec, runtime, profile), spec, dtype)
