"""Building what a run needs: the (folded) model and the data splits (shared by training and evaluation)."""
from __future__ import annotations

import torch
from torch import nn

from intensity.data.folders import Splits
from intensity.data.normalize import Normalized


def _dropout_model(model: nn.Sequential) -> nn.Sequential:
    """NoScope preset: Dropout(0.25) after the second layer (conv + ReLU) and before the last."""
    layers = list(model)
    relus = [i for i, layer in enumerate(layers) if isinstance(layer, nn.ReLU)]
    layers.insert(len(layers) - 1, nn.Dropout(0.25))
    layers.insert(relus[1] + 1 if len(relus) > 1 else 1, nn.Dropout(0.25))
    return nn.Sequential(*layers)


Original = tuple[nn.Module, tuple[int, ...], int]  # an unfolded CNN, its input shape (C, H, W), classes


def build_model(name: str, f: int, preset: str, original: Original | None = None,
                batch_norm: bool | None = None) -> Original:
    """The zoo model `name` (or `original`, a module built elsewhere, e.g. a design-space point)
    with the preset's train-time layers (dropout; batch norm unless `batch_norm` says otherwise)
    folded by f, its input shape and its number of classes."""
    from intensity.train.recipe import recipe_for
    from intensity.transforms.bn_fold import with_batch_norm
    from intensity.transforms.folding import fold

    if original is None:
        from intensity.models import model_entry, resolve_model

        resolved = resolve_model(name)
        original = resolved.module, tuple(resolved.input_shape), model_entry(name).num_classes
    model, shape, classes = original
    recipe = recipe_for(preset, name)
    if recipe.dropout and isinstance(model, nn.Sequential):
        model = _dropout_model(model)
    if recipe.batch_norm if batch_norm is None else batch_norm:
        model = with_batch_norm(model)
    return fold(model, f, tuple(shape)).model, tuple(shape), classes


def model_from_state(state: dict) -> nn.Module:
    """The trained model of a checkpoint, built as its run built it (preset, batch norm), weights loaded."""
    model, _, _ = build_model(state["model_name"], state["f"], state["config"]["preset"],
                              batch_norm=_recipe_of(state).batch_norm)
    model.load_state_dict(state["model"])
    return model.eval()


def _recipe_of(state: dict):  # noqa: ANN202
    from intensity.train.recipe import resolve

    return resolve(state["config"])


def load_data(spec: str, shape: tuple[int, ...], per_class: int = 200, seed: int = 0) -> Splits:
    """Splits from DIR (train/ val/ test/), generated:TASK, cifar10:DIR, cifar100:DIR or video:VIDEO,CSV."""
    kind, _, rest = spec.partition(":")
    size = tuple(shape[1:])
    if kind == "generated":
        from intensity.data.game_text import game_splits

        return game_splits(rest, size, per_class, seed=seed)
    if kind in ("cifar10", "cifar100"):
        from intensity.data.folders import cifar_splits

        return cifar_splits(rest, int(kind[5:]))
    if kind == "video":
        from intensity.data.video import video_splits

        video, _, labels = rest.partition(",")
        return video_splits(video, labels, size)
    from intensity.data.folders import folder_splits

    return folder_splits(spec, size)


def normalized(data: torch.utils.data.Dataset, norm: dict | None) -> torch.utils.data.Dataset:
    return data if norm is None else Normalized(data, norm["mean"], norm["std"])
