"""advice(): findings as a pure function of a cost report and its waterline."""
from __future__ import annotations

import torch

from intensity import analyze
from intensity.analysis.advice import Finding, advice, findings
from intensity.analysis.roofline import waterline


def _predicted(model: torch.nn.Module, batch: int, shape: tuple[int, ...], peak: float, bandwidth: float):
    report = analyze(model, batch=batch, input_shape=shape, dtype="fp32", device="v100")
    return report, waterline(report.kernels, peak, bandwidth)


def test_a_linear_layer_at_large_batch_is_batch_limited():
    # Linear 64->64 without bias, batch 4096, fp32: flops 2*4096*64*64 = 33,554,432;
    # activations 2*4096*64*4 B = 2,097,152 B, weights 16,384 B: intensity 15.87, limit 16.0 (> 95%).
    report, line = _predicted(torch.nn.Linear(64, 64, bias=False), 4096, (64,), 100e12, 1e12)
    kinds = [f.kind for f in findings(report, line)]
    assert kinds == ["efficiency", "memory_bound", "batch_limited", "below_op_byte"]  # 16 < op:byte 100
    assert "(16.0 flop/B)" in advice(report, line)[2]


def test_a_small_batch_is_not_yet_batch_limited_and_can_be_compute_bound():
    # Same layer at batch 1: intensity 2*64*64 / (4*(64+4096+64)) = 0.48, far from its limit 16.
    report, line = _predicted(torch.nn.Linear(64, 64, bias=False), 1, (64,), 1e12, 1e12)  # op:byte 1
    found = findings(report, line)
    assert [f.kind for f in found] == ["efficiency", "memory_bound", "not_batch_limited"]
    assert found[1].text.startswith("1 of 1 kernels are memory bound")


def test_uncounted_ops_are_a_finding():
    class Sorts(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sort(x, dim=1).values

    report, line = _predicted(torch.nn.Sequential(torch.nn.Linear(8, 8), Sorts()), 2, (8,), 1e12, 1e11)
    assert Finding in {type(f) for f in findings(report, line)}
    assert any(f.kind == "uncounted" and "sort" in f.text for f in findings(report, line))
