"""`intensity fit-device`: fit a GPU's efficiency profile to a published timm benchmark table."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intensity.ops._base import OpResult
from intensity.progress import Progress

DEFAULT_CACHE = Path.home() / ".cache" / "intensity" / "kernel-tables"


@dataclass
class FitDeviceResult(OpResult):
    """The fitted profile, how it was validated, and what could not be used."""

    profile: Any  # analysis.efficiency.EfficiencyProfile
    path: str
    in_sample: dict
    cross_validation: dict
    skipped: list[str] = field(default_factory=list)  # rows that did not run
    failed: list[str] = field(default_factory=list)  # models we could not count

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "profile": self.profile.to_dict(), "in_sample": self.in_sample,
                "cross_validation": self.cross_validation, "skipped": self.skipped, "failed": self.failed}

    def to_rows(self) -> list[dict[str, Any]]:
        return [{"parameter": p, "value": getattr(self.profile, p)} for p in self.profile.PARAMETERS]

    def grids(self) -> list[Any]:
        from intensity.report.tables import fit_grids

        return fit_grids(self.profile, self.in_sample, self.cross_validation, self.path)


def run_fit_device(*, published: str | Path, gpu: str, runtime: str = "eager", out: str | Path,
                   cache: str | Path | None = DEFAULT_CACHE, limit: int | None = None, folds: int = 5,
                   progress: Progress | None = None) -> FitDeviceResult:
    """Count the kernels of every model in the GPU's table (cached), fit the profile on the CNNs,
    cross-validate by model family, and write the profile as JSON to `out`."""
    import json

    from intensity.analysis.efficiency import check_runtime
    from intensity.explore import fit_device as F
    from intensity.hardware import get_spec
    from intensity.output import check_output, write_atomic
    from intensity.validate import check_int, check_text

    check_runtime(runtime)
    check_text(gpu, "gpu", example="rtx4090")
    _check_cache(cache)
    spec = get_spec(gpu, "fp16")
    check_output(out, inputs=[published, cache])
    table = F.load_published(published, spec.key, runtime)
    rows = table.rows if limit is None else table.rows[:check_int(limit, "limit", low=1, example="100")]
    samples, failed = F.collect(rows, runtime, Path(cache) if cache else None, fast_norm=table.fast_norm,
                                progress=progress)
    cnn = F.split_samples(samples)["cnn"]
    if len(cnn) < 6:
        raise ValueError(_too_few(len(cnn), len(rows), len(samples) - len(cnn), table.skipped, failed))
    design = F.design(cnn, spec)
    profile = F.fit(design, spec.key, runtime)
    in_sample = F.fidelity(design.measured, F.predicted_seconds(design, _values(profile)))
    validation = F.cross_validate(cnn, spec, runtime, folds) if len({s.family for s in cnn}) > 1 else {}
    profile = _described(profile, len(cnn), validation)
    target = write_atomic(out, json.dumps(profile.to_dict(), indent=2) + "\n", inputs=[published, cache])
    notes = [f"use it with --profile {target}", f"{len(samples) - len(cnn)} attention models not fitted"]
    return FitDeviceResult(profile, str(target), in_sample, validation, table.skipped, failed, notes=notes,
                           warnings=[f"{len(failed)} models could not be counted (listed in JSON `failed`)"]
                           if failed else [])


def _check_cache(cache: str | Path | None) -> None:
    """A cache that is a file would fail once per model, after the table was read: refuse it now."""
    if cache is not None and Path(cache).exists() and not Path(cache).is_dir():
        raise ValueError(f"`cache` {cache} is a file, not a folder; give a folder for the kernel tables "
                         f"(created when missing), or leave out --cache for {DEFAULT_CACHE}")


def _too_few(cnns: int, rows: int, attention: int, skipped: list[str], failed: list[str]) -> str:
    """Why a fit has fewer than 6 CNNs: attention models, unreadable rows, models that failed."""
    reasons = [f"{attention} are attention models, which are not fitted"] if attention else []
    if skipped:
        reasons.append(f"{len(skipped)} rows of the table were skipped ({'; '.join(skipped[:3])})")
    if failed:
        reasons.append(f"{len(failed)} models could not be counted ({'; '.join(failed[:3])})")
    why = "; ".join(reasons) or "the table has no rows"
    return (f"only {cnns} CNNs of {rows} rows could be counted, and a fit needs at least 6: {why}; raise "
            f"`limit` (or leave it out), or fix the table")


def _values(profile: Any) -> dict[str, float]:
    return {p: getattr(profile, p) for p in profile.PARAMETERS}


def _described(profile: Any, count: int, validation: dict) -> Any:
    import dataclasses

    summary = (f"; family cross-validation: {validation['within_25']:.0%} of CNNs within 25%, "
               f"Spearman {validation['spearman']:.3f}") if validation else ""
    return dataclasses.replace(profile, source=f"fitted to {count} CNNs of timm's published {profile.name} "
                               f"{profile.runtime} table{summary}", validation={"family_cross_validation": validation})
