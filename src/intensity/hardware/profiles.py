"""Shipped efficiency profiles: the estimate's parameters fitted to published measurements.

`profiles/<gpu>-<runtime>.json` holds a profile fitted on that GPU (`intensity fit-device`);
`profiles/transfer-<runtime>.json` the architecture-level profile that GPUs known only by their
datasheet get (transferred from the fitted GPUs). The analysis layer turns them into
`EfficiencyProfile`s (analysis/efficiency.py).
"""
from __future__ import annotations

import json
from importlib import resources


def _read(name: str) -> dict | None:
    entry = resources.files("intensity.hardware").joinpath("profiles", name)
    return json.loads(entry.read_text()) if entry.is_file() else None


def fitted_profile_data(key: str, runtime: str) -> dict | None:
    """The shipped profile fitted on GPU `key` for `runtime`, or None."""
    return _read(f"{key}-{runtime}.json")


def transfer_profile_data(runtime: str) -> dict | None:
    """The shipped architecture-level profile for GPUs without a fitted one, or None."""
    return _read(f"transfer-{runtime}.json")


def fitted_gpus(runtime: str) -> list[str]:
    folder = resources.files("intensity.hardware").joinpath("profiles")
    suffix = f"-{runtime}.json"
    return sorted(e.name.removesuffix(suffix) for e in folder.iterdir()
                  if e.name.endswith(suffix) and not e.name.startswith("transfer-"))
