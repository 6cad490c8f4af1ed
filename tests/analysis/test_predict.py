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


def test_an_estimate_in_another_dtype_than_the_profiles_says_it_is_extrapolated():
    conv = nn.Conv2d(16, 16, 3)
    fp32 = predict(conv, device="rtx4090", dtype="fp32", input_shape=(16, 8, 8))
    assert "fitted to fp16 (AMP) measurements, so this fp32 estimate is an extrapolation" in fp32.estimate_note
    assert "extrapolation" not in predict(conv, device="rtx4090", dtype="fp16", input_shape=(16, 8, 8)).estimate_note
