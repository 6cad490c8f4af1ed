"""Triton block-fusion kernels (placeholder until the kernels land)."""
from __future__ import annotations

import importlib.util


def available() -> bool:
    return importlib.util.find_spec("triton") is not None


def convfirst_unsupported(x, block) -> str | None:  # noqa: ANN001
    return "no Triton ConvFirst kernel yet"


def convfirst(x, block):  # noqa: ANN001
    raise NotImplementedError
