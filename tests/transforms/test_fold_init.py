import pytest
import torch

from intensity.train.loop import build_model
from intensity.transforms.fold_init import block_diagonal_, block_masks, share_bounds


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


def test_masks_cover_the_diagonal_blocks():
    torch.manual_seed(0)
    model, shape, _ = build_model("game-lol-gold1", 2, "fast")  # V1 f = 2: first conv 6 -> 45 channels
    masks = block_masks(model, 2, shape)
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d)).weight
    assert masks[first].shape == first.shape
    # shares: inputs [0, 3) and [3, 6); outputs [0, 22) and [22, 45) (floor(32 sqrt 2) = 45)
    assert masks[first][:22, :3].all() and masks[first][22:, 3:].all()
    assert not masks[first][:22, 3:].any() and not masks[first][22:, :3].any()
    kept = sum(int(m.sum()) for m in masks.values()) / sum(m.numel() for m in masks.values())
    assert 0.5 <= kept < 0.505  # f = 2: about half of every layer (22 x 22 + 23 x 23 of 45 x 45)


def test_separate_paths_stay_separate_through_training(tmp_path):
    """After training with `separate`, image j's prediction still ignores the rest of its group and
    every weight between paths is exactly zero (Adam's step of a zero gradient is zero)."""
    from intensity.train.loop import TrainConfig, train

    f = 3
    result = train(TrainConfig("game-lol-gold1", "generated:game-lol-gold1", str(tmp_path / "r"), f=f, epochs=2,
                               per_class=4, batch=9, init="separate"))
    model, shape = result.model.eval(), (3, 22, 52)
    masks = block_masks(model, f, shape)
    assert all(float(w.detach()[~m].abs().max()) == 0.0 for w, m in masks.items())
    assert any(float(w.detach()[m].abs().max()) > 0 for w, m in masks.items())
    images = torch.randn(f, *shape)
    reference = model(images.reshape(1, -1, *shape[1:])).reshape(f, -1)
    images[1:] = torch.randn(f - 1, *shape)
    assert torch.allclose(model(images.reshape(1, -1, *shape[1:])).reshape(f, -1)[0], reference[0], atol=1e-5)


def test_shared_paths_mix_after_training(tmp_path):
    """The peer: `block-diagonal` starts separate but lets the weights between paths train."""
    from intensity.train.loop import TrainConfig, train

    result = train(TrainConfig("game-lol-gold1", "generated:game-lol-gold1", str(tmp_path / "r"), f=2, epochs=1,
                               per_class=4, batch=8, init="block-diagonal"))
    masks = block_masks(result.model, 2, (3, 22, 52))
    assert any(float(w.detach()[~m].abs().max()) > 0 for w, m in masks.items())
