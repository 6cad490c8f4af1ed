import numpy as np
import pytest

from intensity.data.game_text import TASKS, GameTextDataset, game_task
from intensity.models import model_entry


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_matches_its_zoo_model(name):
    entry = model_entry(name)
    data = GameTextDataset(name, 1, entry.input_shape[1:], seed=0)
    assert len(data.classes) == entry.num_classes  # e.g. V1: digits 0-9 + other = 11
    x, y = data[len(data) - 1]
    assert tuple(x.shape) == entry.input_shape and y == entry.num_classes - 1 and data.classes[y] == "other"


def test_deterministic_for_a_seed_and_different_across_seeds():
    a, b = GameTextDataset("game-lol-gold1", 2, (22, 52), 3), GameTextDataset("game-lol-gold1", 2, (22, 52), 3)
    c = GameTextDataset("game-lol-gold1", 2, (22, 52), 4)
    assert np.array_equal(a.image(7), b.image(7))
    assert not np.array_equal(a.image(7), c.image(7))


def test_text_follows_the_task_structure():
    import random

    assert game_task("game-lol-gold1").render_text("7", random.Random(0)).endswith(".7k")
    assert game_task("game-lol-time").render_text("30", random.Random(0)).startswith("30:")
    assert len(TASKS["game-lol-gold2"].classes) == 111 and len(TASKS["game-lol-time"].classes) == 62


def test_unknown_task_names_the_choices():
    with pytest.raises(KeyError, match="game-lol-gold1"):
        game_task("game-nope")


def test_items_are_rendered_once_and_kept():
    import torch

    data = GameTextDataset("game-lol-gold1", 2, (22, 52), 0)
    first, label = data[5]
    first.mul_(0)  # callers may modify their copy: the kept pixels must not change
    again, _ = data[5]
    assert list(data._cache) == [5] and label == 5
    assert torch.equal(again, torch.from_numpy(data.image(5)).permute(2, 0, 1).float() / 255)


def test_large_datasets_are_not_kept(monkeypatch):
    monkeypatch.setattr(GameTextDataset, "CACHE_BYTES", 100)
    data = GameTextDataset("game-lol-gold1", 2, (22, 52), 0)
    data[0]
    assert not data._cache


def test_a_per_class_count_whose_labels_cannot_fit_is_refused_before_listing():
    from intensity.data.game_text import GameTextDataset
    from intensity.errors import TooLargeError

    # 99,999,999,999 x 11 classes x 8 bytes a label = 8.8 TB
    with pytest.raises(TooLargeError, match=r"labels of 99,999,999,999 images per class x 11 classes would "
                                            r"need about 8.8 TB"):
        GameTextDataset("game-lol-gold1", 99_999_999_999, (22, 52))
    with pytest.raises(ValueError, match="`per_class` must be a positive integer"):
        GameTextDataset("game-lol-gold1", 0, (22, 52))


def test_image_folders_that_do_not_fit_on_the_disk_are_refused_before_writing(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    from intensity.data.folders import write_image_folder
    from intensity.data.game_text import game_splits
    from intensity.errors import TooLargeError

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 1000, 1000))
    splits = game_splits("game-lol-gold1", (22, 52), 2)
    with pytest.raises(TooLargeError, match=r"PNG images would need about .* more than the free space"):
        write_image_folder({"train": splits.train}, tmp_path / "out", {})
    assert not (tmp_path / "out").exists()
