"""Errors the library raises on bad input. They subclass ValueError so callers can catch one type;
the CLI turns them into a one-line message and exit code 2."""
from __future__ import annotations

from pathlib import Path


class ModelRunError(ValueError):
    """The model raised while running on the requested input."""


def check_file(path: str | Path, what: str, fix: str) -> Path:
    """`path` as a readable file, or a ValueError saying whether it is missing or a directory.

    `what` names the file's role ("hardware spec file"), `fix` says what to give instead.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {path} is a directory, not a file; {fix}")
    if not path.is_file():
        raise ValueError(f"{what} {path} does not exist; {fix}")
    return path


class ParameterError(ValueError):
    """A parameter's value is malformed or out of range; the message names it in backticks."""


class ParameterTypeError(ParameterError, TypeError):
    """A parameter of the wrong type (also a ValueError, so one `except ValueError` catches all)."""


class TooLargeError(ParameterError):
    """A size that cannot fit, refused before allocating; the message gives the estimate."""


def first_line(error: BaseException | Warning | str | None) -> str:
    """The first line of an error's (or a docstring's) text, for one-line messages."""
    text = str(error or "").strip()
    return text.splitlines()[0] if text else "(no message)"
