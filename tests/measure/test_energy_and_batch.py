"""Energy formulas (seed 004 Eqn 1-2), the 'unavailable' path, and the largest-batch search."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from intensity.measure.batch_search import estimated_fits, largest_batch
from intensity.measure.energy import energy_per_pixel, energy_unavailable, macs_per_joule, measure_energy


def test_epp_and_macs_per_joule():
    # 100 W for 0.5 s over 4 images of 224x224: 50 J / (4 * 50,176 px) = 2.49e-4 J/px
    assert energy_per_pixel(100, 0.5, 4, 224 * 224) == pytest.approx(50 / (4 * 50_176))
    # 4 images x 1e9 MACs / 50 J = 8e7 MACs/J
    assert macs_per_joule(1e9, 4, 100, 0.5) == pytest.approx(8e7)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given without a GPU")
def test_energy_unavailable_without_gpu_is_a_clear_error():
    assert "energy unavailable" in energy_unavailable()
    with pytest.raises(ValueError, match="energy unavailable"):
        measure_energy(nn.Identity(), 2, (3, 4, 4), 1.0)


@pytest.mark.parametrize(("capacity", "expected"), [(1, 1), (700, 700), (1024, 1024), (0, 0), (10**6, 4096)])
def test_largest_batch_search(capacity, expected):
    calls = []

    def fits(batch: int) -> bool:
        calls.append(batch)
        return batch <= capacity

    assert largest_batch(fits, limit=4096) == expected
    assert len(calls) <= 2 * 13 + 2  # doubling plus bisection: logarithmic


def test_estimated_fits_respects_the_budget():
    # coral fp32: weights 1.28M * 4 B; biggest kernel per image: conv2 in + out = 2 * 16*50*50 * 4 B
    fits = estimated_fits("noscope-coral", (3, 50, 50), "fp32", budget_bytes=64e6)
    batch = largest_batch(fits, limit=1 << 12)
    per_image = 2 * 16 * 50 * 50 * 4
    assert batch == (64e6 - 1_283_874 * 4) // per_image
    with pytest.raises(ValueError, match="budget must be positive"):
        estimated_fits("noscope-coral", (3, 50, 50), "fp32", 0)


def test_largest_batch_reports_every_try_and_ends_complete():
    calls = []
    # capacity 5, limit 64: doubling tries 1, 2, 4, 8 (fails) -> bisect (4, 8): 6 fails, 5 fits
    assert largest_batch(lambda b: b <= 5, limit=64, progress=lambda *a: calls.append(a)) == 5
    assert [c[1] for c in calls] == [0, 1, 2, 3, 4, 5, 6, 6]
    assert [c[2] for c in calls] == [None, None, None, None, None, 6, 6, 6]  # (4, 6): 1 step left
    assert {c[0] for c in calls} == {"searching the largest batch"}


def test_largest_batch_when_nothing_fits_or_the_limit_is_bad():
    calls = []
    assert largest_batch(lambda b: False, limit=8, progress=lambda *a: calls.append(a)) == 0
    assert calls[-1][1:] == (1, 1)
    with pytest.raises(ValueError, match="`limit` must be at least 1"):
        largest_batch(lambda b: True, limit=0)


def test_measure_energy_takes_threads_and_progress():
    import inspect

    parameters = inspect.signature(measure_energy).parameters
    assert parameters["threads"].default is None and parameters["progress"].default is None


def test_nvml_that_cannot_start_is_a_clear_reason(monkeypatch):
    import sys
    import types

    from intensity.measure import energy

    class NVMLError(Exception):
        """pynvml's error type, as the import of a broken driver raises it."""

    def fail() -> None:
        raise NVMLError("NVML Shared Library Not Found")

    fake = types.SimpleNamespace(NVMLError=NVMLError, nvmlInit=fail)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    with pytest.raises(ValueError, match=r"energy unavailable: NVML did not start \(NVML Shared Library Not Found\); "
                                         r"check the NVIDIA driver"):
        energy._nvml()
    monkeypatch.setitem(sys.modules, "pynvml", None)  # not installed: import fails
    with pytest.raises(ValueError, match=r"install NVML bindings with `pip install -e \.\[gpu\]`"):
        energy._nvml()
