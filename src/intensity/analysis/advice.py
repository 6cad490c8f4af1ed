"""Plain-language findings about a predicted model: where the time goes, what would raise intensity.

`findings` is a pure function of a cost report and its waterline (no drawing, no printing); the
CLI prints the texts and the HTML report lists them. Each finding has a `kind` so a reader (or a
test) can pick one without matching on prose.
"""
from __future__ import annotations

from dataclasses import dataclass

from intensity.analysis.roofline import Waterline
from intensity.cost.result import CostReport

# Within 5% of the batch-limited limit counts as "on the plateau" (seed 000 Fig. 3).
PLATEAU = 0.95


@dataclass(frozen=True)
class Finding:
    kind: str  # efficiency | memory_bound | batch_limited | not_batch_limited | below_op_byte | uncounted
    text: str


def findings(report: CostReport, line: Waterline) -> list[Finding]:
    """The findings for `report` predicted on its device (`line` is its waterline)."""
    device = report.device["name"] if report.device else "the device"
    found = [Finding("efficiency", f"Predicted maximum computational efficiency on {device} "
                                   f"({report.dtype}, batch {report.batch}): {line.efficiency:.0%} "
                                   f"(waterline, seed 001 Eqn 13).")]
    found.append(_memory_bound(line))
    found.extend(_batch_limit(report, line))
    if report.uncounted:
        ops = ", ".join(u.op for u in report.uncounted)
        found.append(Finding("uncounted", f"{len(report.uncounted)} op(s) could not be counted ({ops}); "
                                          f"flops and bytes above leave them out."))
    return found


def advice(report: CostReport, line: Waterline) -> list[str]:
    """The findings as sentences (what `intensity report` prints)."""
    return [f.text for f in findings(report, line)]


def _memory_bound(line: Waterline) -> Finding:
    memory = [k for k in line.kernels if k.bound == "memory"]
    share = sum(k.latency for k in memory) / line.latency if line.latency else 0.0
    return Finding("memory_bound", f"{len(memory)} of {len(line.kernels)} kernels are memory bound and "
                                   f"take {share:.0%} of the minimum latency.")


def _batch_limit(report: CostReport, line: Waterline) -> list[Finding]:
    """Seed 000 Eqn 4: with weights amortised, intensity stops growing with batch."""
    totals, limit = report.totals, report.totals.intensity_limit
    if not limit:
        return []
    if totals.intensity >= PLATEAU * limit:
        found = [Finding("batch_limited", (
            f"Batch-limited: at batch {report.batch} the mediant intensity ({totals.intensity:.1f} flop/B) "
            f"is within 5% of its limit ({limit:.1f} flop/B); larger batches will not raise it "
            f"(seed 000 Eqn 4). Folding with f=4 raises the batch-limited intensity of inner conv/FC "
            f"layers by up to sqrt(4) = 2x (seed 000 3)."))]
    else:
        found = [Finding("not_batch_limited", (
            f"Not yet batch-limited: the mediant intensity {totals.intensity:.1f} flop/B can grow "
            f"toward {limit:.1f} flop/B with larger batches."))]
    if limit < line.op_byte:
        found.append(Finding("below_op_byte", (
            f"Even the batch-limited intensity ({limit:.1f} flop/B) is below op:byte "
            f"({line.op_byte:.0f}): the model cannot be compute bound on this device as built.")))
    return found
