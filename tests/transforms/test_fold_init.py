import pytest
import torch

from intensity.train.loop import build_model
from intensity.transforms.fold_init import block_diagonal_, share_bounds


def test_share_bounds():
    assert share_bounds(55, 3) == [0, 18, 36, 55]  # floor(32 sqrt 3) channels in 3 shares
    assert share_bounds(2, 2, unit=10) == [0, 10, 20]  # flattened channel-major: 10 features each


@pytest.mark.parametrize("f", [2, 3, 4])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_image_prediction_ignores_the_rest_of_its_group(f, batch_norm):
    torch.manual_seed(0)
    model, shape, _ = build_model("game-lol-gold1", f, "fast", batch_norm=batch_norm)
    block_diagonal_(model, f, shape)
    model.eval()
    images = torch.randn(f, *shape)
    reference = model(images.reshape(1, -1, *shape[1:])).reshape(f, -1)
    for j in range(f):
        others = images.clone()
        for i in range(f):
            if i != j:
                others[i] = torch.randn(*shape)  # other images of the group replaced
        out = model(others.reshape(1, -1, *shape[1:])).reshape(f, -1)
        assert torch.allclose(out[j], reference[j], atol=1e-5)
        perm = [i for i in range(f) if i != j]
        swapped = images.clone()
        swapped[perm] = images[perm[::-1]]  # the others permuted among themselves
        assert torch.allclose(model(swapped.reshape(1, -1, *shape[1:])).reshape(f, -1)[j], reference[j], atol=1e-5)


def test_default_init_mixes_images():
    torch.manual_seed(0)
    model, shape, _ = build_model("game-lol-gold1", 2, "game")
    images = torch.randn(2, *shape)
    a = model(images.reshape(1, -1, *shape[1:])).reshape(2, -1)
    images[1] = torch.randn(*shape)
    assert not torch.allclose(model(images.reshape(1, -1, *shape[1:])).reshape(2, -1)[0], a[0])


def test_grouped_convs_refused():
    model = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3, groups=2))
    with pytest.raises(ValueError, match="init='default'"):
        block_diagonal_(model, 2, (2, 8, 8))
