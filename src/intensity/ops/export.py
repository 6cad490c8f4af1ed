"""`intensity export RUN --format onnx|pt --out FILE`: a trained model, deployable (train/export.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intensity.progress import Progress
from intensity.train.export import Exported, export_run


@dataclass
class ExportResult:
    exported: Exported
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.exported.to_dict()

    def to_rows(self) -> list[dict[str, Any]]:
        row = {k: v for k, v in self.to_dict().items() if k != "notes"}
        return [{**row, "input_shape": "x".join(map(str, row["input_shape"]))}]

    def grids(self) -> list:
        from intensity.report.tables import Grid

        rows = [(key, f"{value:.2e}" if key == "max_abs_diff" else str(value)) for key, value in self.to_rows()[0].items()]
        return [Grid(f"export of {self.exported.run}", ("field", "value"), rows, left=("field", "value"))]


def run_export(run: str | Path, fmt: str, out: str | Path, *, normalize: bool = True,
               progress: Progress | None = None) -> ExportResult:
    exported = export_run(run, fmt, out, normalize=normalize, progress=progress)
    return ExportResult(exported, list(exported.notes))
