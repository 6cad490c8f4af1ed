import torch
from torch import nn
from torch.nn import functional as F

from intensity.data.grouping import check_batch, epoch_order, eval_order, folded_logits, folded_loss
from intensity.transforms.folding import fold


def _folded(f):
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 5))
    return fold(model, f, (3, 4, 4)).model


def test_folded_loss_is_mean_per_image_cross_entropy():
    torch.manual_seed(0)
    model, x, y = _folded(2), torch.randn(6, 3, 4, 4), torch.tensor([0, 1, 2, 3, 4, 0])
    logits = model(torch.cat([x[0::2, None], x[1::2, None]], 1).flatten(1, 2))  # groups (0,1) (2,3) (4,5)
    per_image = torch.stack([F.cross_entropy(logits[i // 2, 5 * (i % 2):5 * (i % 2) + 5][None], y[i:i + 1])
                             for i in range(6)])
    assert torch.allclose(folded_loss(model, x, y, 2), per_image.mean())


def test_padding_is_dropped():
    model, x = _folded(3), torch.randn(7, 3, 4, 4)  # 7 images -> 3 groups, 2 padded images
    assert folded_logits(model, x, 3).shape == (7, 5)


def test_eval_groups_fixed_train_groups_redrawn():
    assert eval_order(50) == eval_order(50)
    assert epoch_order(50, 0, 1) == epoch_order(50, 0, 1) != epoch_order(50, 1, 1)


def test_f_larger_than_batch():
    import pytest

    with pytest.raises(ValueError, match="larger than the batch"):
        check_batch(2, 4)
