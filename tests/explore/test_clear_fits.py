"""The benchmark's cold start: clearing the fit cache makes the next call fit again."""
from __future__ import annotations

from intensity.explore import analytic


def test_clear_fits_forgets_every_pattern():
    analytic._pattern_fit.cache_clear()
    analytic.nats_fits("cifar10", 1, "fp16")
    assert analytic._pattern_fit.cache_info().currsize == 4  # 2 x 2 patterns (c2 != c3, c4 != c5)
    analytic.clear_fits()
    assert analytic._pattern_fit.cache_info().currsize == 0
