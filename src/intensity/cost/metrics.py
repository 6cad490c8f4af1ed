"""The one home of the traffic formulas: bytes, intensity, the batch-limited limit and `bound`.

Kernels and whole-model totals share them through `TrafficMetrics`; the roofline and the reports
ask `bound` rather than compare intensities themselves.
"""
from __future__ import annotations


def intensity(flops: float, nbytes: float) -> float:
    """flops / bytes (seed 000 Eqn 2); 0 for a kernel that moves nothing."""
    return flops / nbytes if nbytes else 0.0


def bound(flops: float, nbytes: float, op_byte: float) -> str:
    """'compute' when intensity reaches the device's op:byte (the roofline's ridge), else 'memory'.

    A kernel without flops (pooling, copies) is memory bound whatever it moves.
    """
    if not flops:
        return "memory"
    return "compute" if not nbytes or flops / nbytes >= op_byte else "memory"


class TrafficMetrics:
    """Derived traffic figures for anything with flops and input/weight/output bytes."""

    flops: int
    input_bytes: int
    weight_bytes: int
    output_bytes: int

    @property
    def bytes(self) -> int:
        return self.input_bytes + self.weight_bytes + self.output_bytes

    @property
    def activation_bytes(self) -> int:
        return self.input_bytes + self.output_bytes

    @property
    def intensity(self) -> float:
        """flops / bytes; for totals this is the mediant intensity (seed 001 Eqn 29)."""
        return intensity(self.flops, self.bytes)

    @property
    def intensity_limit(self) -> float | None:
        """Batch-limited intensity: weights amortised over an infinite batch (seed 000 Eqn 4)."""
        return self.flops / self.activation_bytes if self.activation_bytes else None
