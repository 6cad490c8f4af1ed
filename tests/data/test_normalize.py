import pytest
import torch

from intensity.data.normalize import Normalized, channel_stats, renormalize


class _Pairs(torch.utils.data.Dataset):
    """Two 2-channel 2x2 images: all zeros and all ones in channel 0; channel 1 constant 0.25."""

    targets, classes = [0, 1], ["a", "b"]

    def __len__(self):
        return 2

    def __getitem__(self, i):
        image = torch.full((2, 2, 2), 0.25)
        image[0] = float(i)
        return image, i


def test_channel_stats_by_hand():
    mean, std = channel_stats(_Pairs())
    # channel 0: four 0s and four 1s -> mean 0.5, unbiased std sqrt(8 * 0.25 / 7) = 0.5345
    assert mean[0] == pytest.approx(0.5) and std[0] == pytest.approx((2 / 7) ** 0.5)
    # channel 1 is constant: std clamped to 1e-3 rather than dividing by zero
    assert mean[1] == pytest.approx(0.25) and std[1] == pytest.approx(1e-3)


def test_normalized_items_and_round_trip():
    data = Normalized(_Pairs(), [0.5, 0.25], [0.5, 1.0])
    image, label = data[1]
    assert label == 1 and data.targets == [0, 1] and torch.allclose(image[0], torch.ones(2, 2))  # (1 - .5) / .5
    a, b = {"mean": [0.5, 0.25], "std": [0.5, 1.0]}, {"mean": [0.0, 0.0], "std": [2.0, 2.0]}
    # back to raw pixels, then under b: raw 1 -> (1 - 0) / 2 = 0.5
    assert torch.allclose(renormalize(image, a, b)[0], torch.full((2, 2), 0.5))
    assert torch.allclose(renormalize(renormalize(image, a, None), None, a), image)
    assert renormalize(image, a, a) is image


def test_wrong_channel_count_and_empty_split():
    with pytest.raises(ValueError, match="has 2 channels but the normalization has 3"):
        Normalized(_Pairs(), [0, 0, 0], [1, 1, 1])[0]
    with pytest.raises(ValueError, match="no images"):
        channel_stats(torch.utils.data.TensorDataset(torch.zeros(0, 3, 2, 2)))
