"""Errors the library raises on bad input. They subclass ValueError so callers can catch one type;
the CLI turns them into a one-line message and exit code 2."""
from __future__ import annotations


class ModelRunError(ValueError):
    """The model raised while running on the requested input."""
