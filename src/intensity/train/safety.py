"""Training safety: a diverged run stops with an error and keeps its last good checkpoint, and a
resumed run applies or refuses each changed setting, saying which (never silently ignores one).

Kept apart from loop.py so the loop stays about training; the loop calls these at three points:
before building the run (`resume_settings`), after each step (`check_loss`) and before each
checkpoint (`check_weights`).
"""
from __future__ import annotations

import math
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from intensity.errors import ParameterError, ParameterTypeError
from intensity.train.checkpoint import load_checkpoint
from intensity.validate import check_int


class DivergedError(ParameterError):
    """The loss or the weights became nan or infinite: the learning rate (or data) is at fault."""


# Settings a resumed run can take on: the new value is used from the next epoch, and a note says so.
APPLIED = ("epochs", "lr", "temperature", "weight")
# Settings that identify the run (checked by load_checkpoint) or only say where it runs: a run
# checkpointed on one GPU may resume on another, or on the CPU (checkpoints hold CPU tensors).
UNCHECKED = ("out", "resume", "model", "f", "device", "loader_workers")


_COUNTS = {"f": 1, "epochs": 1, "batch": 1, "per_class": 1, "seed": None}
_OPTIONAL_COUNTS = ("initial", "delta", "every")  # None: the preset's
_NUMBERS = ("lr", "temperature", "weight", "weight_decay", "warmup", "label_smoothing")


def check_setting_types(config: Any) -> None:
    """Counts are integers in range and rates are numbers (their ranges: loop.check_config)."""
    for name, low in _COUNTS.items():
        check_int(getattr(config, name), name, low=low)
    for name in _OPTIONAL_COUNTS:
        if getattr(config, name, None) is not None:
            check_int(getattr(config, name), name, low=1)
    for name in _NUMBERS:
        value = getattr(config, name, None)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ParameterTypeError(f"`{name}` must be a number, not {type(value).__name__} {value!r}")


def check_loss(loss: torch.Tensor, epochs_done: int, lr: float | None, out: str) -> None:
    """Stop before a non-finite loss reaches the weights (backward would spread it everywhere)."""
    value = loss.item()
    if not math.isfinite(value):
        kept = f"{Path(out) / 'last.pt'} keeps epoch {epochs_done}" if epochs_done else "no checkpoint was written"
        raise DivergedError(f"training diverged: the loss became {value} in epoch {epochs_done + 1} "
                            f"(learning rate {lr if lr is not None else 'the preset default'}); {kept}; "
                            f"lower `lr` (e.g. 1e-4) and train again")


def check_weights(model: nn.Module, epoch: int) -> None:
    """Never checkpoint non-finite weights: the previous checkpoint stays the last good one."""
    bad = [name for name, p in model.named_parameters() if not torch.isfinite(p).all()]
    if bad:
        raise DivergedError(f"training diverged in epoch {epoch + 1}: {len(bad)} parameter tensors "
                            f"(first {bad[0]}) are nan or infinite; the checkpoint was not written; "
                            f"lower `lr` (e.g. 1e-4) and train again")


def resume_settings(config: Any, out: Path) -> tuple[Any, list[str]]:
    """The config a resumed run trains with, and notes on what changed.

    A setting left at its default takes the checkpoint's value; a changed APPLIED setting is used
    (noted); any other changed setting is refused, naming the old and new value. Asking for no
    more epochs than were trained trains nothing (the note says so; the checkpoint is evaluated).
    """
    state = load_checkpoint(out / "last.pt", config.model, config.f)
    saved, done = state.get("config", {}), state["epoch"] + 1
    changes, notes = {}, [_resume_note(out, done, config.epochs)]
    for item in fields(config):
        if item.name in UNCHECKED or item.name == "epochs" or item.name not in saved:
            continue
        new, old = getattr(config, item.name), saved[item.name]
        if new == old:
            continue
        if new == item.default:
            changes[item.name] = old
        elif item.name in APPLIED:
            notes.append(f"`{item.name}` changed on resume: {_shown(old)} -> {_shown(new)} "
                         f"(applied from epoch {done + 1})")
        else:
            was = "left to the preset" if old is None else repr(old)
            keep = f"resume without `{item.name}`" if old is None else f"resume with `{item.name}` {old!r}"
            raise ParameterError(f"`{item.name}` was {was} in the run in {out}, now {new!r}; a resumed "
                                 f"run keeps it: {keep}, or give a new `out`")
    return replace(config, **changes), notes


def _resume_note(out: Path, done: int, epochs: int) -> str:
    if epochs <= done:
        return (f"nothing to train: the run in {out} has trained {done} epochs and `epochs` is {epochs}; "
                f"evaluating its checkpoint (give `epochs` {done + 1} or more to continue it)")
    return f"resuming {out} after epoch {done}: training epochs {done + 1}-{epochs}"


def _shown(value: object) -> str:
    return "the preset's default" if value is None else repr(value)


def apply_lr(optimizer: torch.optim.Optimizer, lr: float | None) -> None:
    """After loading an optimizer's state (which carries the old rate): use the configured one."""
    if lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr
