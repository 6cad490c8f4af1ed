"""Folding the constructs of common CNNs: BN subclasses, depthwise/grouped convs, concat, channel
shuffle, LayerNorm over channels, layer scales, transformers (refused), names (own input shape)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from intensity.transforms.folding import GroupedLayerNorm, fold


class BatchNormAct(nn.BatchNorm2d):
    """Like timm's BatchNormAct2d: a BatchNorm2d subclass with a fused activation."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                                 False, 0.0, self.eps))


def _runs(result, batch: int = 2) -> torch.Tensor:  # noqa: ANN001
    return result.model(torch.randn(batch, *result.folded_input_shape))


def test_batch_norm_subclass_widens_and_keeps_its_class():
    model = nn.Sequential(nn.Conv2d(3, 32, 3), BatchNormAct(32), nn.Conv2d(32, 5, 1))
    result = fold(model, 4, (3, 8, 8))
    norm = result.model.get_submodule("1")
    assert type(norm) is BatchNormAct and norm.running_mean.shape == (64,)  # 32 * sqrt 4
    assert _runs(result).shape == (2, 20, 6, 6)


def test_depthwise_stays_depthwise():
    # 3 -> 32 -> depthwise 32 -> 10; f = 2: floor(32 sqrt 2) = 45, the depthwise conv gets 45 groups
    model = nn.Sequential(nn.Conv2d(3, 32, 1), nn.Conv2d(32, 32, 3, groups=32), nn.Conv2d(32, 10, 1))
    result = fold(model, 2, (3, 8, 8))
    depthwise = result.model.get_submodule("1")
    assert (depthwise.in_channels, depthwise.out_channels, depthwise.groups) == (45, 45, 45)
    assert _runs(result).shape == (2, 20, 6, 6)


def test_layers_feeding_a_grouped_conv_round_to_its_group_count():
    # 3 -> 24 -> (8 groups) 24 -> 10; f = 2: floor(24 sqrt 2) = 33 -> 32, a multiple of 8, on both
    model = nn.Sequential(nn.Conv2d(3, 24, 1), nn.ReLU(), nn.Conv2d(24, 24, 3, groups=8), nn.Conv2d(24, 10, 1))
    result = fold(model, 2, (3, 8, 8))
    assert [layer.after for layer in result.layers] == [(6, 32), (32, 32), (32, 20)]
    assert any("rounded for groups" in note for note in result.notes)


class CatIntoGroups(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 16, 1), nn.Conv2d(3, 16, 1)
        self.grouped = nn.Conv2d(32, 32, 1, groups=32 // 2)
        self.head = nn.Conv2d(32, 10, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.grouped(torch.cat([self.a(x), self.b(x)], 1)))


def test_grouped_conv_after_a_concat_is_refused_with_old_to_new_widths():
    # f = 2: each branch 16 -> 22, so the concat is 44 channels, which 16 groups do not divide
    with pytest.raises(ValueError, match=r"'grouped': its 16 groups do not divide its new widths \(32->44 input"):
        fold(CatIntoGroups(), 2, (3, 4, 4))


class DenseBlock(nn.Module):
    """DenseNet: each layer's output is concatenated to its input."""

    def __init__(self) -> None:
        super().__init__()
        self.stem, self.grow, self.head = nn.Conv2d(3, 16, 1), nn.Conv2d(16, 8, 3, padding=1), nn.Conv2d(24, 10, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        return self.head(torch.cat([x, self.grow(x)], 1))


def test_concatenation_adds_the_folded_widths():
    # f = 4: 16 -> 32 and 8 -> 16, so the head takes 32 + 16 = 48 channels
    result = fold(DenseBlock(), 4, (3, 6, 6))
    assert result.model.head.in_channels == 48
    assert _runs(result).shape == (2, 40, 6, 6)


class ShuffleBlock(nn.Module):
    """ShuffleNet v2: split the channels in two, convolve one half, concatenate, shuffle."""

    def __init__(self) -> None:
        super().__init__()
        self.stem, self.branch, self.head = nn.Conv2d(3, 24, 1), nn.Conv2d(12, 12, 1), nn.Conv2d(24, 10, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        left, right = x.chunk(2, dim=1)
        x = torch.cat([left, self.branch(right)], 1)
        n, c, h, w = x.size()
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)
        return self.head(x)


def test_chunk_and_channel_shuffle_get_even_widths():
    # f = 2: the stem's floor(24 sqrt 2) = 33 is rounded to 32 so chunk(2) halves it; the branch
    # then gives floor(12 sqrt 2) = 16, and 16 + 16 = 32 shuffles in two groups
    result = fold(ShuffleBlock(), 2, (3, 4, 4))
    assert result.model.stem.out_channels == 32 and result.model.head.in_channels == 32
    assert _runs(result).shape == (2, 20, 4, 4)


class ConvNeXtBlock(nn.Module):
    """torchvision's CNBlock: depthwise conv, channels-last LayerNorm and MLP, a layer scale."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.norm, self.up, self.down = nn.LayerNorm(8), nn.Linear(8, 32), nn.Linear(32, 8)
        self.scale = nn.Parameter(torch.full((8, 1, 1), 1e-6))
        self.head = nn.Conv2d(8, 10, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        y = self.down(self.up(self.norm(self.dw(x).permute(0, 2, 3, 1)))).permute(0, 3, 1, 2)
        return self.head(x + self.scale * y)


def test_layer_norm_over_channels_becomes_a_per_image_norm_and_layer_scales_widen():
    # f = 4: 8 -> 16 channels; the norm normalises each image's 16 / 4 = 4 channels apart
    result = fold(ConvNeXtBlock(), 4, (3, 5, 5))
    norm = result.model.norm
    assert isinstance(norm, GroupedLayerNorm) and (norm.width, norm.groups, norm.dim) == (16, 4, 3)
    assert result.model.scale.shape == (16, 1, 1) and torch.all(result.model.scale == 1e-6)  # values kept
    assert _runs(result).shape == (2, 40, 5, 5)


def test_grouped_layer_norm_normalises_each_group_at_each_position():
    # the same as LayerNorm(2) run channels-last on each of the 3 groups of 2 channels
    norm = GroupedLayerNorm(6, 3, dim=1)
    x = torch.randn(2, 6, 4, 5) * 3 + 7
    groups = [nn.functional.layer_norm(g.permute(0, 2, 3, 1), (2,)).permute(0, 3, 1, 2) for g in x.split(2, 1)]
    assert torch.allclose(norm(x), torch.cat(groups, 1), atol=1e-5)


class TinyTransformer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.patch, self.attention = nn.Conv2d(3, 8, 4, 4), nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch(x).flatten(2).transpose(1, 2)
        return self.attention(tokens, tokens, tokens)[0].mean(1)


def test_transformers_are_refused_in_one_line():
    with pytest.raises(ValueError, match=r"cannot fold a transformer: module 'attention' \(MultiheadAttention\) is attention") as error:
        fold(TinyTransformer(), 2, (3, 8, 8))
    assert "\n" not in str(error.value)


def test_a_name_uses_its_own_input_shape_and_says_so():
    result = fold("game-lol-gold1", 4)
    assert result.input_shape == (3, 22, 52) and result.folded_input_shape == (12, 22, 52)
    assert result.notes[0] == "input shape 3x22x52: game-lol-gold1's own"
    assert result.wrapped()(torch.randn(5, 3, 22, 52)).shape == (5, 11)


def test_a_module_without_a_shape_says_it_used_the_default():
    assert fold(nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 2, 1)), 2).notes[0].endswith(
        "the default (pass input_shape)")


def test_a_model_that_does_not_run_at_the_shape_names_it():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    with pytest.raises(ValueError, match="does not run on one 3x5x5 input"):
        fold(model, 2, (3, 5, 5))


@pytest.mark.parametrize("shape", [(3, 8), (3, 0, 8), "3x8x8"])
def test_bad_input_shapes(shape):
    with pytest.raises(ValueError, match="input_shape must be one image's"):
        fold(nn.Sequential(nn.Conv2d(3, 4, 1)), 2, shape)


# --- torchvision / timm CNNs at small inputs (weights=None / pretrained=False, no download) ------

CNNS = [("torchvision:mobilenet_v3_small", (3, 32, 32)), ("torchvision:shufflenet_v2_x0_5", (3, 32, 32)),
        ("torchvision:regnet_x_400mf", (3, 32, 32)), ("timm:efficientnet_b0", (3, 32, 32))]


@pytest.mark.parametrize(("name", "shape"), CNNS)
def test_common_cnns_fold_and_run_on_f_times_c_channels(name, shape):
    pytest.importorskip(name.split(":")[0])
    result = fold(name, 2, shape)
    assert result.model(torch.randn(1, 6, *shape[1:])).shape == (1, 2000)  # f * 1000 ImageNet classes
    first, last = result.layers[0], result.layers[-1]
    assert first.after[0] == 6 and last.after[1] == 2000


@pytest.mark.slow
@pytest.mark.parametrize(("name", "shape"), [("torchvision:densenet121", (3, 32, 32)),
                                             ("torchvision:convnext_tiny", (3, 32, 32)),
                                             ("timm:convnext_tiny", (3, 32, 32))])
def test_dense_and_convnext_fold_and_run(name, shape):
    result = fold(name, 4, shape)
    assert result.model(torch.randn(1, 12, *shape[1:])).shape == (1, 4000)


def test_vit_is_refused():
    pytest.importorskip("timm")
    with pytest.raises(ValueError, match="cannot fold a transformer"):
        fold("timm:vit_tiny_patch16_224", 2)


class MixedConv(nn.Module):
    """MixNet: split the channels into fixed sizes, a depthwise conv of its own kernel on each part."""

    def __init__(self) -> None:
        super().__init__()
        self.stem, self.head = nn.Conv2d(3, 16, 1), nn.Conv2d(16, 10, 1)
        self.k3, self.k5 = nn.Conv2d(12, 12, 3, padding=1, groups=12), nn.Conv2d(4, 4, 5, padding=2, groups=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = torch.split(self.stem(x), [12, 4], 1)
        return self.head(torch.cat([self.k3(a), self.k5(b)], 1))


def test_a_split_into_fixed_sizes_keeps_each_parts_share():
    # f = 4: the stem's 16 -> 32 channels split [12, 4] -> [24, 8]; each depthwise conv follows
    result = fold(MixedConv(), 4, (3, 6, 6))
    assert (result.model.k3.groups, result.model.k5.groups) == (24, 8)
    assert _runs(result).shape == (2, 40, 6, 6)


class GatedBranches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b1, self.b2 = nn.Conv2d(3, 10, 1), nn.Conv2d(3, 5, 1), nn.Conv2d(3, 5, 1)
        self.head = nn.Conv2d(10, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.a(x) + torch.cat([self.b1(x), self.b2(x)], 1))


def test_a_residual_over_differently_rounded_branches_is_refused_with_both_widths():
    # f = 3: one side floor(10 sqrt 3) = 17 channels, the other floor(5 sqrt 3) twice = 8 + 8 = 16
    with pytest.raises(ValueError, match="node 'add': it joins tensors now 16 and 17 channels wide"):
        fold(GatedBranches(), 3, (3, 4, 4))


class CrossStage(nn.Module):
    """CSPNet: split the channels into two equal halves by size, one half through a conv."""

    def __init__(self) -> None:
        super().__init__()
        self.stem, self.conv, self.head = nn.Conv2d(3, 16, 1), nn.Conv2d(8, 8, 1), nn.Conv2d(16, 10, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = self.stem(x).split(8, dim=1)
        return self.head(torch.cat([left, self.conv(right)], 1))


def test_a_split_by_size_becomes_halves_of_the_new_width():
    # f = 2: floor(16 sqrt 2) = 22, already even; halves of 11, and the conv gives floor(8 sqrt 2) = 11
    result = fold(CrossStage(), 2, (3, 4, 4))
    assert result.model.conv.in_channels == 11 and result.model.head.in_channels == 22
    assert _runs(result).shape == (2, 20, 4, 4)


class PartialResidual(nn.Module):
    """ReXNet: the shortcut is added to the first in_channels channels only."""

    def __init__(self) -> None:
        super().__init__()
        self.stem, self.grow, self.head = nn.Conv2d(3, 8, 1), nn.Conv2d(8, 12, 1), nn.Conv2d(12, 10, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        y = self.grow(x)
        return self.head(torch.cat([y[:, 0:8] + x, y[:, 8:]], dim=1))


def test_a_slice_of_the_first_channels_takes_them_folded():
    # f = 4: y[:, 0:8] becomes y[:, 0:16], matching the stem's 8 -> 16; y[:, 8:] the other 24 - 16
    result = fold(PartialResidual(), 4, (3, 4, 4))
    assert result.model.head.in_channels == 24
    assert _runs(result).shape == (2, 40, 4, 4)


class GroupedThenGate(nn.Module):
    """RegNetY: a grouped conv, BN and ReLU, then a squeeze-excitation gate."""

    def __init__(self) -> None:
        super().__init__()
        self.stem, self.grouped = nn.Conv2d(3, 24, 1), nn.Conv2d(24, 24, 3, padding=1, groups=3)
        self.norm, self.gate, self.head = nn.BatchNorm2d(24), nn.Conv2d(24, 24, 1), nn.Conv2d(24, 10, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.norm(self.grouped(self.stem(x))))
        return self.head(x * torch.sigmoid(self.gate(x.mean((2, 3), keepdim=True))))


def test_a_gate_over_a_grouped_conv_rounds_like_it():
    # f = 2: floor(24 sqrt 2) = 33 is a multiple of 3 already; f = 3: floor(24 sqrt 3) = 41 -> 39 on both
    result = fold(GroupedThenGate(), 3, (3, 4, 4))
    assert result.model.grouped.out_channels == 39 and result.model.gate.out_channels == 39
    assert _runs(result).shape == (2, 30, 4, 4)
