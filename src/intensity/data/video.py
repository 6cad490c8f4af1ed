"""Video-frame datasets (seed 000 App. A.2, NoScope): frames decoded from a video file with PyAV,
per-frame labels from a CSV, split into train/val/test by contiguous chunks (never at random:
neighbouring frames are near copies, so a random split would leak test frames into training)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


def _av():  # noqa: ANN202
    try:
        import av
    except ImportError:
        raise ValueError("video datasets need PyAV: pip install 'intensity[train]' (or av)") from None
    return av


def read_frames(path: str | Path, size: tuple[int, int], every: int = 1) -> np.ndarray:
    """Every `every`-th frame of a video as (N, H, W, 3) uint8, resized to (H, W)."""
    av = _av()
    try:
        with av.open(str(path)) as container:
            frames = [frame.to_ndarray(format="rgb24", width=size[1], height=size[0])
                      for index, frame in enumerate(container.decode(video=0)) if index % every == 0]
    except (av.error.FFmpegError, OSError, ValueError) as error:
        raise ValueError(f"cannot open video {path}: {error}; give a readable video file (mp4, avi, ...)") from None
    if not frames:
        raise ValueError(f"video {path} has no frames; give a non-empty video")
    return np.stack(frames)


def read_labels(path: str | Path) -> dict[int, str]:
    """A CSV with columns `frame` (index in the video) and `label`."""
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise ValueError(f"cannot read labels {path}: {error.strerror}") from None
    if not rows or not {"frame", "label"} <= set(rows[0]):
        raise ValueError(f"labels {path} need a header with columns frame,label and one row per frame")
    try:
        return {int(row["frame"]): row["label"] for row in rows}
    except ValueError:
        raise ValueError(f"labels {path}: the frame column must hold frame indices (integers)") from None


@dataclass
class FrameDataset(torch.utils.data.Dataset):
    frames: np.ndarray  # (N, H, W, 3) uint8
    targets: list[int]
    classes: list[str]

    def __len__(self) -> int:
        return len(self.targets)

    def image(self, index: int) -> np.ndarray:
        return self.frames[index]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.from_numpy(self.frames[index]).permute(2, 0, 1).float() / 255, self.targets[index]


def video_splits(video: str | Path, labels: str | Path, size: tuple[int, int], chunks: int = 8,
                 parts: tuple[int, int, int] = (6, 7, 8), every: int = 1):  # noqa: ANN201
    """Split the labelled frames into `chunks` contiguous chunks and use chunk numbers `parts`
    (1-based: train, val, test), as App. A.2 (coral: 8 chunks, 6/7/8)."""
    from intensity.data.folders import Splits

    frames, table = read_frames(video, size, every), read_labels(labels)
    indices = [i * every for i in range(len(frames))]
    missing = [i for i in indices if i not in table]
    if missing or len(table) != len(indices):
        raise ValueError(f"labels {labels} do not match video {video}: {len(table)} labelled frames, "
                         f"{len(indices)} decoded (first unlabelled: {missing[:3]}); give one label per frame")
    if any(not 1 <= p <= chunks for p in parts) or chunks > len(frames):
        raise ValueError(f"chunks={chunks} with parts {parts} do not fit {len(frames)} frames; "
                         f"give parts within 1..chunks and at most one chunk per frame")
    classes = sorted(set(table.values()))
    targets = [classes.index(table[i]) for i in indices]
    bounds = np.linspace(0, len(frames), chunks + 1).astype(int)
    sets = [FrameDataset(frames[bounds[p - 1]:bounds[p]], targets[bounds[p - 1]:bounds[p]], classes) for p in parts]
    return Splits(*sets, classes)


def write_synthetic_video(path: str | Path, labels: str | Path, frames: int, size: tuple[int, int] = (50, 50),
                          seed: int = 0, fps: int = 30) -> list[int]:
    """A test video: a noisy drifting background, and in labelled runs of frames a bright moving
    square (the "object of interest"). Writes the video and a frame,label CSV; returns labels."""
    av = _av()
    rng = np.random.default_rng(seed)
    present = (np.cumsum(rng.random(frames) < 0.05) % 2).astype(int)  # runs of presence / absence
    height, width = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"qscale": "2"}
        for index in range(frames):
            image = _scene(rng, index, size, bool(present[index]))
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with open(labels, "w", newline="") as handle:
        handle.write("frame,label\n" + "".join(f"{i},{'object' if p else 'none'}\n" for i, p in enumerate(present)))
    return present.tolist()


def _scene(rng: np.random.Generator, index: int, size: tuple[int, int], present: bool) -> np.ndarray:
    height, width = size
    y, x = np.mgrid[0:height, 0:width]
    base = 90 + 40 * np.sin((x + index) / 7.0) + 20 * np.cos(y / 5.0)
    image = np.repeat(base[..., None], 3, axis=2) + rng.normal(0, 10, (height, width, 3))
    if present:
        side = max(4, min(size) // 5)
        top, left = rng.integers(0, height - side), rng.integers(0, width - side)
        image[top:top + side, left:left + side] = [230, 60, 40]
    return np.clip(image, 0, 255).astype(np.uint8)
