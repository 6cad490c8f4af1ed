"""Synthetic game-text images for the game-scraping tasks of seed 000 (App. A.1).

Each task renders text of a fixed structure ("XY.Zk" for V1) and classifies one part of it (Z).
Like the production generator, fonts, sizes, positions, colours, backgrounds, blur and noise are
drawn at random, so a CNN must read the text rather than the style. Every image is a pure
function of (task, seed, index): the dataset is deterministic and needs no disk.

Class lists (App. A.1); "other" is a blank section (background only):
- game-lol-gold1 (V1): "14.7k" -> the tenths digit "7": 0-9 + other = 11
- game-apex-count (V2): squad members left "0".."20" + other = 22
- game-sot-coin (V3): thousands of "10,438" -> "10". App. A says "0 through 14 and other" (16)
  but the model has F15: we use 0-13 + other = 15 so the zoo model fits.
- game-sot-time (V4): minutes remaining "0".."25" rendered as "17m" + other = 27
- game-lol-gold2 (V5): the integer part of "14.7k": "0".."9", "00".."99" + other = 111
- game-lol-time (V6): the minutes of "30:54": "00".."60" + other = 62
"""
from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from intensity.data.folders import Splits
from intensity.validate import check_fits, check_int

OTHER = "other"


@dataclass(frozen=True)
class GameTask:
    name: str
    classes: tuple[str, ...]
    render_text: Callable[[str, random.Random], str]  # class label -> the text shown


def _digits(count: int, rng: random.Random) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _lol_gold1(label: str, rng: random.Random) -> str:
    return f"{rng.randrange(1, 100)}.{label}k"


def _sot_coin(label: str, rng: random.Random) -> str:
    return f"{label},{_digits(3, rng)}" if label != "0" else str(rng.randrange(1000))


def _lol_gold2(label: str, rng: random.Random) -> str:
    return f"{label}.{rng.randrange(10)}k"


def _lol_time(label: str, rng: random.Random) -> str:
    return f"{label}:{rng.randrange(60):02d}"


def _task(name: str, labels: list[str], render: Callable[[str, random.Random], str]) -> GameTask:
    return GameTask(name, (*labels, OTHER), render)


TASKS: dict[str, GameTask] = {task.name: task for task in (
    _task("game-lol-gold1", [str(d) for d in range(10)], _lol_gold1),
    _task("game-apex-count", [str(n) for n in range(21)], lambda label, rng: label),
    _task("game-sot-coin", [str(n) for n in range(14)], _sot_coin),
    _task("game-sot-time", [str(n) for n in range(26)], lambda label, rng: f"{label}m"),
    _task("game-lol-gold2", [str(d) for d in range(10)] + [f"{n:02d}" for n in range(100)], _lol_gold2),
    _task("game-lol-time", [f"{n:02d}" for n in range(61)], _lol_time),
)}


def game_task(name: str) -> GameTask:
    if name not in TASKS:
        raise KeyError(f"no game-text generator for {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[name]


def _fonts() -> list[str]:
    import matplotlib

    folder = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")
    names = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
             "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSans-Oblique.ttf"]
    return [os.path.join(folder, name) for name in names if os.path.exists(os.path.join(folder, name))]


_FONT_CACHE: dict[tuple[str, int], object] = {}


def _font(path: str, size: int):  # noqa: ANN202
    from PIL import ImageFont

    key = (path, size)
    if key not in _FONT_CACHE:
        _FONT_CACHE[key] = ImageFont.truetype(path, size)
    return _FONT_CACHE[key]


def _background(rng: random.Random, height: int, width: int) -> np.ndarray:
    """A dark-ish colour, a horizontal or vertical gradient, and a speckle texture."""
    base = np.array([rng.randrange(0, 110) for _ in range(3)], dtype=np.float32)
    tint = np.array([rng.randrange(-40, 41) for _ in range(3)], dtype=np.float32)
    ramp = np.linspace(0, 1, width if rng.random() < 0.5 else height, dtype=np.float32)
    ramp = ramp[None, :, None] if ramp.size == width else ramp[:, None, None]
    texture = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(0, 12), (height, width, 1))
    return np.clip(base + tint * ramp + texture, 0, 255)


def render(task: GameTask, label: str, rng: random.Random, height: int, width: int) -> np.ndarray:
    """One (H, W, 3) uint8 image of class `label`."""
    from PIL import Image, ImageDraw, ImageFilter

    scale = 4  # draw large then shrink: smooth glyphs at 15-22 pixel heights
    canvas = Image.fromarray(_background(rng, height, width).astype(np.uint8)).resize(
        (width * scale, height * scale), Image.BILINEAR)
    if label != OTHER:
        text = task.render_text(label, rng)
        font = _font(rng.choice(_fonts()), max(6, int(height * scale * rng.uniform(0.55, 0.85))))
        draw = ImageDraw.Draw(canvas)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        free_x = max(0, width * scale - (right - left))
        free_y = max(0, height * scale - (bottom - top))
        xy = (rng.randint(0, free_x) - left, rng.randint(0, free_y) - top)
        colour = tuple(rng.randrange(170, 256) for _ in range(3))
        draw.text(xy, text, font=font, fill=colour)
    image = canvas.resize((width, height), Image.BILINEAR)
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.1, 0.7)))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(0, 8), (height, width, 3))
    return np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8)


def _check_count(per_class: int, classes: int) -> None:
    """Images are rendered on demand, but their labels are listed: refuse, before listing them, a
    count whose label list alone (8 bytes an entry) would not fit in memory."""
    check_int(per_class, "per_class", example="1000")
    check_fits(per_class * classes * 8, f"the labels of {per_class:,} images per class x {classes} classes",
               "give a smaller `per_class` (App. A trains on about 1,000 per class)")


class GameTextDataset(torch.utils.data.Dataset):
    """`per_class` images of every class of `task`, rendered on the fly at (H, W).

    Item i is class i % C, drawn from a generator seeded by (seed, i): the same for a seed, on any
    machine and in any order. Items are (float tensor (3, H, W) in [0, 1], class index). Items are
    kept once rendered (uint8, up to CACHE_BYTES): rendering costs more than a training step of
    these small CNNs, so re-rendering every epoch halved training throughput.
    """

    CACHE_BYTES = 512 * 2**20

    def __init__(self, task: str, per_class: int, size: tuple[int, int], seed: int = 0) -> None:
        _check_count(per_class, len(game_task(task).classes))
        self.task, self.per_class, self.size, self.seed = game_task(task), per_class, tuple(size), seed
        self.classes = list(self.task.classes)
        self.targets = [i % len(self.classes) for i in range(len(self))]
        self._cache: dict[int, torch.Tensor] = {}
        self._cacheable = len(self) * 3 * self.size[0] * self.size[1] <= self.CACHE_BYTES

    def __len__(self) -> int:
        return self.per_class * len(self.task.classes)

    def image(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        rng = random.Random(f"{self.task.name}/{self.seed}/{index}")
        return render(self.task, self.classes[self.targets[index]], rng, *self.size)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        pixels = self._cache.get(index)
        if pixels is None:
            pixels = torch.from_numpy(self.image(index)).permute(2, 0, 1)
            if self._cacheable:
                self._cache[index] = pixels
        return pixels.float() / 255, self.targets[index]


def game_splits(task: str, size: tuple[int, int], per_class: int, eval_per_class: int | None = None,
                seed: int = 0) -> Splits:
    """Train/val/test generated from disjoint seeds (seed, seed + 1, seed + 2)."""
    held = eval_per_class or max(1, per_class // 5)
    train = GameTextDataset(task, per_class, size, seed)
    val, test = (GameTextDataset(task, held, size, seed + k) for k in (1, 2))
    return Splits(train, val, test, train.classes)
