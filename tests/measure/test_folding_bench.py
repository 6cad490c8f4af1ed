"""Measured folding speedup: structure of the results on a short CPU run."""
from __future__ import annotations

import pytest

from intensity.measure.folding import bench_folding
from intensity.models import create_model


def test_bench_folding_reports_every_f_against_the_original():
    model = create_model("noscope-coral")
    results = bench_folding(model, (3, 50, 50), [2, 4], batch=8, peak_flops=1e12, iters=1, trials=1)
    assert [r.f for r in results] == [1, 2, 4]
    assert results[0].speedup == pytest.approx(1.0) and results[0].speedup_with_reshape == pytest.approx(1.0)
    assert all(r.images_per_s > 0 and r.images_per_s_with_reshape > 0 and 0 < r.utilization < 1 for r in results)


def test_bench_folding_rejects_bad_factors():
    with pytest.raises(ValueError, match="must be >= 1"):
        bench_folding(create_model("noscope-coral"), (3, 50, 50), [0], batch=8, peak_flops=1e12)
