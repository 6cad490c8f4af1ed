import pytest
import torch
from PIL import Image

from intensity.data.folders import cifar_splits, folder_splits, image_folder, write_image_folder
from intensity.data.game_text import GameTextDataset


def test_write_and_read_back(tmp_path):
    data = GameTextDataset("game-apex-count", 1, (19, 25))
    manifest = write_image_folder({"train": data, "test": data}, tmp_path / "ds",
                                  {"task": "game-apex-count", "seed": 0})
    assert manifest["counts"]["train"]["other"] == 1 and len(manifest["classes"]) == 22
    splits = folder_splits(tmp_path / "ds", (19, 25))
    x, y = splits.train[21]
    assert x.shape == (3, 19, 25) and splits.classes[y] == "021-other"
    assert torch.allclose(x, data[21][0], atol=1 / 255 + 1e-6)  # PNG is lossless
    with pytest.raises(ValueError, match="not an empty directory"):
        write_image_folder({"train": data}, tmp_path / "ds", {})


def test_bad_folders(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        image_folder(tmp_path / "missing", (8, 8))
    with pytest.raises(ValueError, match="no class folders"):
        image_folder(tmp_path, (8, 8))
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="has no images"):
        image_folder(tmp_path, (8, 8))
    Image.new("RGB", (4, 4)).save(tmp_path / "a" / "x.png")
    assert image_folder(tmp_path, (8, 8))[0][0].shape == (3, 8, 8)


def test_cifar_missing_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="nothing is downloaded"):
        cifar_splits(tmp_path, 10)


def test_video_frames_contiguous_split(tmp_path):
    pytest.importorskip("av")
    from intensity.data.video import video_splits, write_synthetic_video

    labels = write_synthetic_video(tmp_path / "v.mp4", tmp_path / "v.csv", 16, (32, 32))
    splits = video_splits(tmp_path / "v.mp4", tmp_path / "v.csv", (32, 32), chunks=4, parts=(1, 2, 4))
    assert len(splits.train) == 4 and len(splits.test) == 4  # 16 frames / 4 chunks
    expected = [splits.classes.index("object" if p else "none") for p in labels]
    assert splits.test.targets == expected[12:16]  # chunk 4 = the last 4 frames, in order
    (tmp_path / "bad.csv").write_text("frame,label\n0,none\n")
    with pytest.raises(ValueError, match="do not match"):
        video_splits(tmp_path / "v.mp4", tmp_path / "bad.csv", (32, 32))
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="cannot open video"):
        video_splits(tmp_path / "bad.mp4", tmp_path / "v.csv", (32, 32))
