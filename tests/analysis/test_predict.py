"""predict(): refusals that keep zeros and mislabelled estimates out of every prediction command."""
from __future__ import annotations

import pytest
from torch import nn

from intensity.analysis.efficiency import EfficiencyProfile
from intensity.analysis.predict import predict


class Sorts(nn.Module):
    def forward(self, x):
        return x.sort(dim=-1).values  # sort has no cost formula: listed as uncounted, never a zero


def test_a_model_without_kernels_is_refused_not_predicted_as_zero():
    with pytest.raises(ValueError, match=r"has no kernel to predict: its forward pass runs no op"):
        predict(nn.Identity(), device="t4", input_shape=(3, 8, 8))
    with pytest.raises(ValueError, match=r"none of its ops has a cost formula \(sort"):
        predict(Sorts(), device="t4", input_shape=(3, 8, 8))


def test_a_profile_of_another_runtime_is_refused():
    eager = EfficiencyProfile(name="mine", runtime="eager")
    with pytest.raises(ValueError, match="is for the 'eager' runtime, not 'compiled'; give --runtime eager"):
        predict(nn.Conv2d(3, 8, 3), device="rtx4090", input_shape=(3, 8, 8), runtime="compiled", profile=eager)
    p = predict(nn.Conv2d(3, 8, 3), device="rtx4090", input_shape=(3, 8, 8), profile=eager)
    assert p.estimate.runtime == "eager" and p.estimate.profile == "mine"
    assert p.estimate.latency >= p.latency  # the estimate is never faster than the bound
