"""FoldedCNNs: the transform, its channel arithmetic, the data layout and seed 000's figures."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from intensity import analyze
from intensity.analysis.folding import predict_folding
from intensity.models import create_model, model_entries
from intensity.models.resnet_cifar import ResNetCifar
from intensity.transforms.folding import (
    FoldedModel, cascade_break_even, fold, fold_inputs, folded_width, traffic_falls, unfold_outputs,
)


def _three_convs() -> nn.Sequential:
    # input conv -> Table 6's 32 -> 32 layer (no bias) -> output conv
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1, bias=False),
                         nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1))


def test_seed000_table6_from_the_folded_layer():
    # fold by 4: the middle layer becomes 64 -> 64; at batch 1024 / 4 = 256 its intensity is 286.87
    folded = fold(_three_convs(), 4, (3, 11, 26)).model
    middle_layer = folded.get_submodule("2")
    assert (middle_layer.in_channels, middle_layer.out_channels) == (64, 64)
    report = analyze(folded, batch=256, input_shape=(12, 11, 26), dtype="fp16", fusion="none", only=["conv"])
    middle = next(k for k in report.kernels if k.name == "2")
    assert round(middle.intensity, 2) == 286.87
    original = analyze(_three_convs(), batch=1024, input_shape=(3, 11, 26), dtype="fp16", fusion="none", only=["conv"])
    assert round(next(k for k in original.kernels if k.name == "2").intensity, 2) == 143.93


SPECIALIZED = [e.name for e in model_entries("noscope-*")] + [f"game-{n}" for n in
                                                            ("lol-gold1", "apex-count", "sot-coin", "sot-time")]


@pytest.mark.parametrize("name", SPECIALIZED)
@pytest.mark.parametrize("f", [2, 3, 4])
def test_channel_arithmetic_of_figs_6_to_8(name, f):
    model = create_model(name)
    shape = tuple(next(e for e in model_entries(name)).input_shape)
    layers = fold(model, f, shape).layers
    first, *middle, last = layers
    assert first.after[0] == 3 * f  # C * f input channels
    assert last.after[1] == f * last.before[1]  # f * C_L outputs
    for layer in [first, *middle]:
        assert layer.after[1] == math.floor(layer.before[1] * math.sqrt(f) + 1e-9)


@pytest.mark.parametrize("name", ["noscope-roundabout", "game-lol-gold1"])
def test_flops_per_image_and_intensity_ratio_in_the_batch_limited_regime(name):
    (prediction,) = predict_folding(name, [4], batch=4096)
    inner = [row for row in prediction.layers[1:-1] if row.kind == "conv"]
    assert inner
    for row in inner:  # seed 000 4.1: equal flops; intensity up ~sqrt(f) = 2 once batch-limited
        assert row.flops_per_image_after == pytest.approx(row.flops_per_image_before, rel=0.05)
        assert row.intensity_ratio == pytest.approx(2.0, rel=0.1)
        assert row.traffic_falls is True


@pytest.mark.parametrize("f", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("n", [1, 7, 12])
def test_fold_inputs_and_unfold_round_trip_exactly(f, n):
    x = torch.randn(n, 3, 5, 4)
    folded = fold_inputs(x, f)
    assert folded.shape == (math.ceil(n / f), 3 * f, 5, 4)
    assert torch.equal(unfold_outputs(folded, f, n), x)


def test_image_j_of_a_group_sits_in_channels_jc_to_j_plus_1_c():
    x = torch.arange(4 * 3, dtype=torch.float32).reshape(4, 3, 1, 1)
    folded = fold_inputs(x, 2)
    assert torch.equal(folded[1, 3:6], x[3])  # group 1, image j = 1 -> channels [3, 6)


def test_folded_model_takes_ordinary_batches():
    model = create_model("noscope-coral")
    folded = FoldedModel(fold(model, 3, (3, 50, 50)).model, 3, in_channels=3)
    assert folded(torch.randn(7, 3, 50, 50)).shape == (7, 2)
    with pytest.raises(ValueError, match="input has 1 channels; this FoldedModel takes 3"):
        folded(torch.randn(2, 1, 50, 50))


def test_f1_is_an_equivalent_copy():
    model = create_model("noscope-coral").eval()
    x = torch.randn(2, 3, 50, 50)
    copy = fold(model, 1, (3, 50, 50)).model
    assert copy is not model and torch.equal(copy(x), model(x))


def test_resnet18_cifar_with_residuals_and_batch_norm():
    folded = fold(ResNetCifar(), 4, (3, 32, 32)).model
    assert folded(torch.randn(2, 12, 32, 32)).shape == (2, 40)
    assert folded.conv1.out_channels == 128 and folded.linear.in_features == 1024


@pytest.mark.parametrize(("channels", "per_group"), [(32, 16), (64, 32)])
def test_grouped_convs_g32_g64_keep_their_groups(channels, per_group):
    # seed 000 App. C Table 7: 4 groups; f = 4 doubles channels per group (8 -> 16, 16 -> 32)
    model = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.Conv2d(channels, channels, 3, padding=1, groups=4),
                          nn.Conv2d(channels, 2, 1))
    folded = fold(model, 4, (3, 50, 50)).model
    grouped = folded.get_submodule("1")
    assert grouped.groups == 4 and grouped.in_channels // 4 == per_group


def test_rounding_to_multiples_of_8():
    assert folded_width(64, 2) == 90  # floor(64 * sqrt 2), App. H's example
    assert folded_width(64, 2, "multiple-of-8") == 88
    with pytest.raises(ValueError, match="unknown rounding"):
        folded_width(64, 2, "ceil")


def test_seed000_app_g_and_app_j():
    assert math.floor(cascade_break_even(2.5, 0.0021)) == 285  # App. G: "285x"
    assert traffic_falls(1024, 11, 26, 32, 32, 3, 4)  # Table 6's layer at batch 1024
    assert not traffic_falls(1, 2, 2, 256, 256, 3, 4)  # weights dominate: folding adds traffic


class WithLayerNorm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.norm = nn.LayerNorm([8, 6, 6])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))


@pytest.mark.parametrize(("f", "message"), [(0, "must be >= 1"), (1.5, "must be an integer"),
                                            ("2", "must be an integer")])
def test_bad_factors(f, message):
    with pytest.raises(ValueError, match=message):
        fold(create_model("noscope-coral"), f, (3, 50, 50))


def test_unsupported_layer_names_the_node():
    with pytest.raises(ValueError, match="cannot rewrite 'norm': LayerNorm over \\(8, 6, 6\\) mixes channels"):
        fold(WithLayerNorm(), 2, (3, 8, 8))
