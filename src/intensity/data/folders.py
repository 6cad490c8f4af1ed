"""Image-folder datasets (torchvision ImageFolder layout), CIFAR on disk, and writing a generated
dataset as an image folder with a manifest."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from intensity.validate import check_fits

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
SPLITS = ("train", "val", "test")


@dataclass
class Splits:
    """Train, validation and test datasets of one task; items are (float (C, H, W), class)."""

    train: torch.utils.data.Dataset
    val: torch.utils.data.Dataset
    test: torch.utils.data.Dataset
    classes: list[str]


def _check_folder(root: Path) -> list[Path]:
    """The class folders of an image-folder tree, or a clear error."""
    if not root.is_dir():
        raise ValueError(f"image folder {root} does not exist or is not a directory; give a folder with "
                         f"one sub-folder of images per class")
    try:
        classes = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError as error:
        raise ValueError(f"cannot read image folder {root}: {error.strerror}; check its permissions") from None
    if not classes:
        raise ValueError(f"image folder {root} has no class folders; put each class's images in its own "
                         f"sub-folder (ImageFolder layout)")
    for folder in classes:
        if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
            raise ValueError(f"class folder {folder} has no images ({', '.join(IMAGE_SUFFIXES[:3])}, ...); "
                             f"add images or remove the folder")
    return classes


class _Resized(torch.utils.data.Dataset):
    """ImageFolder items as float (3, H, W) tensors in [0, 1] at the model's resolution."""

    def __init__(self, folder: object, size: tuple[int, int]) -> None:
        self.folder, self.size = folder, size
        self.targets, self.classes = list(folder.targets), list(folder.classes)

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from torchvision.transforms.functional import pil_to_tensor, resize

        path, target = self.folder.samples[index]
        try:
            image = self.folder.loader(path)
        except OSError as error:
            raise ValueError(f"cannot read image {path}: {error}; remove or replace it") from None
        pixels = pil_to_tensor(image.convert("RGB"))
        if tuple(pixels.shape[1:]) != tuple(self.size):
            pixels = resize(pixels, list(self.size), antialias=True)
        return pixels.float() / 255, target


def image_folder(root: str | Path, size: tuple[int, int]) -> _Resized:
    """An ImageFolder tree (class per sub-folder) as a dataset at (H, W)."""
    from torchvision.datasets import ImageFolder

    root = Path(root)
    _check_folder(root)
    return _Resized(ImageFolder(str(root)), tuple(size))


def folder_splits(root: str | Path, size: tuple[int, int]) -> Splits:
    """train/ val/ test/ image folders under `root` (val optional: test is used in its place)."""
    root = Path(root)
    if not (root / "train").is_dir() or not (root / "test").is_dir():
        raise ValueError(f"{root} needs train/ and test/ image folders (val/ optional), as "
                         f"`intensity make-dataset` writes them")
    train, test = image_folder(root / "train", size), image_folder(root / "test", size)
    val = image_folder(root / "val", size) if (root / "val").is_dir() else test
    if train.classes != test.classes:
        raise ValueError(f"{root}: train/ and test/ have different class folders; give both the same classes")
    return Splits(train, val, test, train.classes)


class _Tensors(torch.utils.data.Dataset):
    def __init__(self, data: object, size: tuple[int, int]) -> None:
        self.data, self.size = data, size
        self.targets, self.classes = list(data.targets), list(data.classes)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        pixels = torch.from_numpy(self.data.data[index]).permute(2, 0, 1).float() / 255
        return pixels, self.targets[index]


def cifar_splits(root: str | Path, classes: int = 10, val_fraction: float = 0.1) -> Splits:
    """CIFAR-10/100 in the official python format under `root` (never downloaded). The last
    `val_fraction` of the training set is held out for validation, a contiguous block."""
    from torch.utils.data import Subset
    from torchvision.datasets import CIFAR10, CIFAR100

    kind = {10: CIFAR10, 100: CIFAR100}.get(classes)
    if kind is None:
        raise ValueError(f"CIFAR has 10 or 100 classes, not {classes}")
    try:
        train, test = (kind(str(root), train=flag, download=False) for flag in (True, False))
    except RuntimeError as error:
        raise ValueError(f"no CIFAR-{classes} at {root} ({error}); unpack the official "
                         f"cifar-{classes}-python archive there (nothing is downloaded)") from None
    train, test = _Tensors(train, (32, 32)), _Tensors(test, (32, 32))
    cut = int(len(train) * (1 - val_fraction))
    fit, val = Subset(train, range(cut)), Subset(train, range(cut, len(train)))
    fit.targets, val.targets = train.targets[:cut], train.targets[cut:]
    return Splits(fit, val, test, train.classes)


def class_folder(index: int, label: str) -> str:
    """Folder names whose sorted order is the class order (ImageFolder sorts names)."""
    return f"{index:03d}-{label}"


def check_empty_dir(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} exists and is not an empty directory; give a new --out so nothing is "
                         f"written over")


def _check_disk_space(datasets: dict[str, object], out: Path) -> None:
    """Refuse, before writing, image folders that would not fit on the disk: the estimate is the
    first image's PNG size times the number of images."""
    import io

    from PIL import Image

    first = next(iter(datasets.values()))
    buffer = io.BytesIO()
    Image.fromarray(first.image(0)).save(buffer, format="PNG")
    images = sum(len(data) for data in datasets.values())
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    check_fits(images * buffer.tell(), f"{images:,} PNG images", "give a smaller `per_class` or "
               "an `out` on a larger disk", limit=shutil.disk_usage(existing).free,
               room=f"the free space on {existing}'s disk")


def write_image_folder(datasets: dict[str, object], out: str | Path, manifest: dict) -> dict:
    """Write {split: dataset with .image(i), .targets, .classes} as PNG image folders under `out`
    plus manifest.json (the given fields and per-split counts). Refuses a non-empty `out`."""
    from PIL import Image

    out = Path(out)
    check_empty_dir(out)
    _check_disk_space(datasets, out)
    counts: dict[str, dict[str, int]] = {}
    for split, data in datasets.items():
        names = [class_folder(i, label) for i, label in enumerate(data.classes)]
        for name in names:
            os.makedirs(out / split / name, exist_ok=True)
        for index, target in enumerate(data.targets):
            Image.fromarray(data.image(index)).save(out / split / names[target] / f"{index:07d}.png")
        counts[split] = {label: data.targets.count(i) for i, label in enumerate(data.classes)}
    manifest = {**manifest, "classes": list(next(iter(datasets.values())).classes), "counts": counts}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
