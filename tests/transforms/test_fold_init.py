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


class TwoBranches(torch.nn.Module):
    """A Fire-like module: two convs on one input, concatenated on channels, then a classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.a = torch.nn.Conv2d(3, 4, 1)
        self.b = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.head = torch.nn.Linear(8 * 6 * 6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(torch.cat([self.a(x), self.b(x)], 1)).flatten(1))


class Residual(torch.nn.Module):
    """A ResNet-like stage: conv to 4 channels, then conv to 8 beside a 1x1 shortcut conv to 8."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.body = torch.nn.Conv2d(4, 8, 3, padding=1)
        self.shortcut = torch.nn.Conv2d(4, 8, 1)
        self.head = torch.nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.stem(x))
        return self.head((torch.relu(self.body(y)) + self.shortcut(y)).mean((2, 3)))


def test_paths_are_separate_only_where_channels_stay_in_image_order():
    from intensity.train.setup import build_model as build
    from intensity.transforms.fold_init import paths_are_separate

    torch.manual_seed(0)
    model, shape, _ = build_model("game-lol-gold1", 2, "fast")
    assert not paths_are_separate(model, 2, shape)  # PyTorch's init mixes the images
    block_diagonal_(model, 2, shape)
    assert paths_are_separate(model, 2, shape)
    # a residual net: each shortcut conv reads its block's input, and the shares still line up
    resnet, shape, _ = build("residual", 2, "fast", original=(Residual(), (3, 6, 6), 5))
    block_diagonal_(resnet, 2, shape)
    assert paths_are_separate(resnet, 2, shape)
    # concatenated branches interleave images: [a of image 0, a of image 1, b of image 0, b of image 1]
    branches, shape, _ = build("two-branches", 2, "fast", original=(TwoBranches(), (3, 6, 6), 5))
    block_diagonal_(branches, 2, shape)
    assert not paths_are_separate(branches, 2, shape)


def test_a_model_that_cannot_keep_paths_separate(tmp_path):
    """`fast`'s default falls back to shared paths and says so; `--init separate` by name is refused."""
    from intensity.train.loop import TrainConfig, train

    original = (TwoBranches(), (3, 6, 6), 5)
    config = dict(f=2, epochs=1, per_class=2, batch=4)
    data = "generated:game-lol-gold1"  # never read: the model is refused or built before any data
    with pytest.raises(ValueError, match="--init separate: two-branches mixes the images' channels"):
        train(TrainConfig("two-branches", data, str(tmp_path / "a"), init="separate", **config), original=original)
    with pytest.raises(ValueError, match="has 11 classes"):  # got past the init, with a note
        train(TrainConfig("two-branches", data, str(tmp_path / "b"), **config), original=original)
