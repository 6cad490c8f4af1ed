"""Communication model of synchronous data-parallel training (seed 002 ch. 3).

Each step every worker holds |dW| = |W| bytes of weight gradients (Eqn 3.1) to be summed:
- parameter server (Eqn 3.3): |dW| * p / BW seconds (the one server sends and receives p copies);
- reduction tree (Eqn 3.4): |dW| * 2 log2(p) / BW (a binary tree: 2 children per level);
- ring allreduce: 2 (p - 1) / p * |dW| / BW (reduce-scatter then all-gather).
Eqn 3.3 is taken as written, so p = 1 still pays |dW| / BW (the seed's server is a separate node);
the tree and the ring pay nothing for one worker. Computation per step is 3x the forward waterline
latency at the per-worker batch (backward ~ 2x forward), and scaling efficiency is
compute / (compute + communication): no overlap of the two, the pessimistic bound.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

STRATEGIES = ("parameter_server", "reduction_tree", "ring")


def comm_seconds(strategy: str, gradient_bytes: float, workers: int, bandwidth: float) -> float:
    """Seconds per step to sum `gradient_bytes` over `workers` at `bandwidth` bytes/s."""
    if workers < 1:
        raise ValueError(f"`workers` must be at least 1, got {workers}; give worker counts such as 1,2,4,8")
    if not (bandwidth > 0 and math.isfinite(bandwidth)):
        raise ValueError(f"`bandwidth` must be a positive number of bytes/s, got {bandwidth}")
    factor = {"parameter_server": workers, "reduction_tree": 2 * math.log2(workers),
              "ring": 2 * (workers - 1) / workers}.get(strategy)
    if factor is None:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    return gradient_bytes * factor / bandwidth


@dataclass
class CommRow:
    workers: int
    strategy: str
    comm_s: float
    compute_s: float

    @property
    def efficiency(self) -> float:
        return self.compute_s / (self.compute_s + self.comm_s)


def comm_table(gradient_bytes: float, workers: list[int], bandwidth: float, compute_s: float) -> list[CommRow]:
    return [CommRow(p, s, comm_seconds(s, gradient_bytes, p, bandwidth), compute_s)
            for p in workers for s in STRATEGIES]


def comm_model(model: str, workers: list[int], bandwidth_gbs: float, *, dtype: str = "fp32",
               device: str = "v100", batch: int = 32) -> tuple[float, float, list[CommRow]]:
    """(gradient bytes, compute seconds per step, rows) for a zoo/torchvision/timm model."""
    from intensity.analysis.predict import predict
    from intensity.dtypes import resolve_dtype
    from intensity.models import resolve_model

    _check_inputs(workers, bandwidth_gbs)
    module = resolve_model(model).module
    gradient_bytes = sum(p.numel() for p in module.parameters()) * resolve_dtype(dtype).bytes
    compute = 3 * predict(model, device=device, dtype=dtype, batch=batch).latency
    return gradient_bytes, compute, comm_table(gradient_bytes, workers, bandwidth_gbs * 1e9, compute)


def _check_inputs(workers: list[int], bandwidth_gbs: float) -> None:
    """Fail before building the model, naming the value as the caller gave it (GB/s, not bytes/s)."""
    if not (bandwidth_gbs > 0 and math.isfinite(bandwidth_gbs)):
        raise ValueError(f"`bandwidth_gbs` must be a positive number of GB/s, got {bandwidth_gbs:g}; "
                         f"give e.g. 7 (10 GbE is about 1.25)")
    if not workers:
        raise ValueError("`workers` is empty; give worker counts such as 1,2,4,8")
    bad = [p for p in workers if p < 1]
    if bad:
        raise ValueError(f"`workers` must be at least 1, got {bad[0]}; give worker counts such as 1,2,4,8")
