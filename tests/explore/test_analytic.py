"""The closed-form NATS sweep equals tracing each network with analyze + predict."""
from __future__ import annotations

import random

import numpy as np
import pytest

from intensity.explore.analytic import nats_metrics, predicted_metrics
from intensity.explore.spaces import make_space, nats_arch
from intensity.hardware import get_spec


def _compare(dataset: str, batch: int, dtype: str, count: int, seed: int) -> None:
    space = make_space("nats-size", dataset=dataset)
    spec = get_spec("a100-40gb", dtype)
    indices = sorted(random.Random(seed).sample(range(space.size), count)) + [0, 11, 32767]
    fast = nats_metrics(space, np.array(indices), spec=spec, dtype=dtype, batch=batch)
    for index in indices:
        exact = predicted_metrics(space, nats_arch(index), device=spec, dtype=dtype, batch=batch)
        assert fast[index] == exact, index  # every metric, floats bit for bit


def test_closed_form_equals_tracing_on_a_sample():
    _compare("cifar10", 1, "fp16", 20, seed=0)


@pytest.mark.slow
def test_closed_form_equals_tracing_on_200_points_per_variant():
    _compare("cifar10", 1, "fp16", 200, seed=1)
    _compare("ImageNet16-120", 8, "fp32", 200, seed=2)
