"""The real-tensor capture stops with TooLargeError before it exhausts memory (a detection model at
batch 256 was killed by the OOM killer after two minutes, with no message)."""
from __future__ import annotations

import resource
import sys

import pytest
import torch
from torch import nn

from intensity.cost import memory_guard
from intensity.cost.counter import capture
from intensity.errors import TooLargeError

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the guard reads /proc")


class DataDependentThenLarge(nn.Module):
    """Meta and fake tensors fail on the `if` (data-dependent); real ones allocate 400 MB."""

    def forward(self, x):
        if x.sum() > -1e30:
            return x + torch.ones(100_000_000).sum()  # 100 M fp32 elements = 400 MB
        return x


@pytest.fixture
def available_mb(monkeypatch):
    def set_available(mb: float) -> None:
        monkeypatch.setattr(memory_guard, "_available_bytes", lambda: int(mb * 1e6))
    return set_available


@linux
def test_a_real_run_past_the_share_of_available_memory_is_stopped(available_mb):
    available_mb(50)  # share: 40 MB of growth, far below the 400 MB the model allocates
    before = resource.getrlimit(resource.RLIMIT_AS)
    with pytest.raises(TooLargeError, match=r"counting on real tensors .* ran out of room.*`batch`"):
        capture(DataDependentThenLarge(), (2, 3, 4, 4))
    assert resource.getrlimit(resource.RLIMIT_AS) == before  # the limit is lifted again


@linux
def test_inputs_too_large_for_the_share_are_refused_before_they_are_allocated(available_mb):
    available_mb(1)  # share 0.8 MB; the input is 8 x 3 x 224 x 224 x 4 B = 4.8 MB
    with pytest.raises(TooLargeError, match=r"an input of shape \(8, 3, 224, 224\), which alone takes 4.82 MB"):
        capture(DataDependentThenLarge(), (8, 3, 224, 224))


@linux
def test_a_real_run_that_fits_is_counted_as_before(available_mb):
    available_mb(20_000)

    class Small(nn.Module):
        def forward(self, x):
            return x * 2 if x.sum() > -1e30 else x

    trace = capture(Small(), (2, 3, 4, 4))
    assert trace.capture == "real" and trace.ops[-1].kind == "mul"


def test_without_proc_the_guard_does_nothing(monkeypatch):
    monkeypatch.setattr(memory_guard, "_available_bytes", lambda: None)
    guard = memory_guard.MemoryGuard("an input")
    guard.check_inputs(10**15)  # no limit known: nothing refused
    with guard as entered:
        data = bytearray(10**6)  # allocating under the guard is not refused either
    assert entered.limit is None and len(data) == 10**6
