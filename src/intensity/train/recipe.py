"""Training recipes: the seed's (seed 000 5.1) and `fast`, the default, which makes folded CNNs
converge within a CPU budget (benchmarks/results/fold_recipe_ablation_cpu.txt).

A recipe is the set of defaults a run starts from; every field can be overridden by the
TrainConfig field of the same name. `preset` names one:
- `seed`: the seed's own settings for the model's family: `noscope` for NoScope CNNs (RMSprop
  6.6e-4, Dropout(0.25) after the second layer and before the last, no curriculum), else `game`
  (Adam 1e-4, weight decay 1e-5, constant learning rate, curriculum for folded models with
  I = max(f, floor(C_L/10)), Delta = floor(C_L/10), E = 60). `game`, `noscope`, `cifar` (Adam
  1e-4, no curriculum) pick one family explicitly.
- `fast`: batch norm after every conv and hidden linear while training (folded into the weights
  at export: the deployed model has the seed's architecture and flops), separate image paths in
  folded models (`init="separate"`: f independent narrow CNNs at step 0 that stay independent,
  the weights between paths held at zero; `block-diagonal` starts so but lets them train), AdamW
  with a linear warm-up and a cosine decay of the learning rate per step, label smoothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from torch import nn, optim

from intensity.registry import Registry

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
SCHEDULES = ("constant", "cosine")
INITS = ("default", "block-diagonal", "separate")


@dataclass(frozen=True)
class Recipe:
    description: str
    optimizer: str = "adam"
    lr: float = 1e-4
    weight_decay: float = 1e-5
    batch_norm: bool = False
    init: str = "default"
    schedule: str = "constant"
    warmup: float = 0.0  # share of the run (in steps) with a linear warm-up
    label_smoothing: float = 0.0
    curriculum: bool = False  # the default for folded models
    every: int | None = 60  # curriculum E in epochs; None: a share of the run (`every_share`)
    every_share: float = 0.04  # the seed's 60 of 1500 epochs
    dropout: bool = False  # NoScope's Dropout(0.25) layers

    def every_for(self, epochs: int) -> int:
        return self.every if self.every is not None else max(1, math.floor(epochs * self.every_share))


RECIPES: Registry[Recipe] = Registry("preset", hint="choose one of fast, seed, game, noscope, cifar")
RECIPES.add("game", Recipe("seed 000 5.1, game scraping: Adam 1e-4, weight decay 1e-5, curriculum E = 60",
                           curriculum=True))
RECIPES.add("cifar", Recipe("seed 000 5.1, CIFAR: Adam 1e-4, weight decay 1e-5"))
RECIPES.add("noscope", Recipe("seed 000 5.1, NoScope: RMSprop 6.6e-4, Dropout(0.25)", optimizer="rmsprop",
                              lr=6.6e-4, weight_decay=0.0, dropout=True))
RECIPES.add("fast", Recipe("batch norm (folded at export), separate image paths (block-diagonal weights), "
                           "AdamW 3e-3 with warm-up and cosine decay, label smoothing 0.1", optimizer="adamw",
                           lr=3e-3, weight_decay=5e-4, batch_norm=True, init="separate", schedule="cosine", warmup=0.05,
                           label_smoothing=0.1, curriculum=False, every=None))
PRESETS = ("fast", "seed", "game", "noscope", "cifar")
DEFAULT_PRESET = "fast"


def recipe_for(preset: str, model: str) -> Recipe:
    """The recipe `preset` names for `model` (`seed` resolves by the model's family)."""
    if preset == "seed":
        preset = "noscope" if model.startswith("noscope") else "game"
    return RECIPES[preset]


# TrainConfig fields that override the recipe's field of the same name when given (not None).
OVERRIDES = tuple(f.name for f in fields(Recipe) if f.name not in ("description", "every_share"))


def resolve(config: object) -> Recipe:
    """`config`'s recipe (a TrainConfig or a checkpoint's config dict) with its overrides applied.
    Checkpoints written before recipes existed have none of the override keys: their preset's
    recipe then is exactly what they trained with."""
    get = config.get if isinstance(config, dict) else lambda key, default=None: getattr(config, key, default)
    recipe = recipe_for(get("preset", "game"), get("model", "") or "")
    given = {name: get(name) for name in OVERRIDES if get(name) is not None}
    recipe = replace(recipe, **given)
    check_recipe(recipe)
    return recipe


def check_recipe(recipe: Recipe) -> None:
    for name, value, choices in (("optimizer", recipe.optimizer, OPTIMIZERS), ("schedule", recipe.schedule, SCHEDULES),
                                 ("init", recipe.init, INITS)):
        if value not in choices:
            raise ValueError(f"--{name} {value!r} is not known; choose one of {', '.join(choices)}")
    if not 0 <= recipe.warmup < 1:
        raise ValueError(f"--warmup is the share of the run spent warming up, in [0, 1); got {recipe.warmup:g}")
    if not 0 <= recipe.label_smoothing < 1:
        raise ValueError(f"--label-smoothing must be in [0, 1), got {recipe.label_smoothing:g}; give e.g. 0.1")
    if not (recipe.weight_decay >= 0 and math.isfinite(recipe.weight_decay)):
        raise ValueError(f"--weight-decay must be >= 0, got {recipe.weight_decay:g}")


def make_optimizer(recipe: Recipe, model: nn.Module) -> optim.Optimizer:
    params, lr, decay = model.parameters(), recipe.lr, recipe.weight_decay
    if recipe.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=decay)
    if recipe.optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=decay)
    return (optim.AdamW if recipe.optimizer == "adamw" else optim.Adam)(params, lr=lr, weight_decay=decay)


def lr_factor(recipe: Recipe, position: float) -> float:
    """The learning rate's share of its peak at `position` in [0, 1] of the run: a linear warm-up
    over the first `warmup` share, then a cosine decay to zero (or 1 throughout: constant). A pure
    function of the position, so a resumed run follows the same schedule."""
    if recipe.schedule == "constant":
        return 1.0
    if position < recipe.warmup:
        return (position + 1e-3) / (recipe.warmup + 1e-3)
    rest = (position - recipe.warmup) / max(1e-9, 1 - recipe.warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, rest)))


def set_lr(optimizer: optim.Optimizer, recipe: Recipe, position: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = recipe.lr * lr_factor(recipe, position)
