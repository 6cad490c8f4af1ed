"""Checkpoints of a training run: model, optimizer, scheduler, curriculum, RNG states, epoch.
Written atomically (temporary file, then rename) with every tensor on the CPU, so a GPU run's
checkpoint loads anywhere, even with a plain torch.load; read with weights_only=True."""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

FORMAT = "intensity-train/1"


def save_checkpoint(path: str | Path, state: dict) -> None:
    path = Path(path)
    _, keys, pos, gauss, cached = np.random.get_state()
    rng = {"torch": torch.get_rng_state(), "python": repr(random.getstate()),
           "numpy": torch.from_numpy(keys.astype(np.int64)), "numpy_rest": [int(pos), int(gauss), float(cached)]}
    temporary = path.with_suffix(".tmp")
    torch.save({"format": FORMAT, **on_cpu(state), "rng": rng}, temporary)
    os.replace(temporary, path)


def on_cpu(tree: object) -> object:
    """`tree` (dicts, lists, tuples of tensors and plain values) with every tensor copied to the CPU."""
    if isinstance(tree, torch.Tensor):
        return tree.cpu()
    if isinstance(tree, dict):
        return {key: on_cpu(value) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(on_cpu(value) for value in tree)
    return tree


def run_checkpoint(run: str | Path, empty: str = "a checkpoint path is empty") -> Path:
    """The checkpoint a user names: a run directory's last.pt, or the file itself. An empty name
    is refused (`Path("")` is the current directory: never read whatever is there)."""
    refuse_empty(run, empty)
    path = Path(run)
    return path / "last.pt" if path.is_dir() else path


def refuse_empty(run: str | Path, empty: str) -> None:
    if not str(run).strip():
        raise ValueError(f"{empty}; give a run directory (train --out) or the last.pt it wrote")


def load_checkpoint(path: str | Path, model: str | None = None, f: int | None = None) -> dict:
    """A checkpoint, or a ValueError naming the file when it is corrupt or of another model/f."""
    refuse_empty(path, "the checkpoint path is empty")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {path} does not exist; give a run directory or a .pt file it wrote")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch.load of any other file fails in many ways (IndexError for text)
        raise ValueError(f"checkpoint {path} is corrupt or not an intensity checkpoint "
                         f"({type(error).__name__}: {(str(error).splitlines() or [''])[0][:80]}); give a run "
                         f"directory or the last.pt it wrote (or train again)") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"checkpoint {path} is not an intensity training checkpoint ({FORMAT})")
    for key, wanted in (("model_name", model), ("f", f)):
        if wanted is not None and state[key] != wanted:
            raise ValueError(f"checkpoint {path} is of {key} {state[key]!r}, not {wanted!r}; resume with the "
                             f"same model and -f, or give a new --out")
    return state


def restore_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    import ast

    random.setstate(ast.literal_eval(state["python"]))
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), *state["numpy_rest"]))
