"""One registry class for everything looked up by name: op formulas, models, devices.

Register by decorator; a duplicate name is an error (two formulas for one op would make results
depend on import order); an unknown name raises a KeyError that suggests close matches.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from intensity.errors import first_line

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A name that is not registered; the message lists close matches."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def unknown_name_message(kind: str, name: str, known: list[str], hint: str = "") -> str:
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    message = f"unknown {kind} {name!r}"
    if close:
        message += f"; did you mean {', '.join(repr(c) for c in close)}"
    return message + (f"; {hint}" if hint else "")


class Registry(Generic[T]):
    """Names -> objects, filled by decorators at import time."""

    def __init__(self, kind: str, hint: str = "") -> None:
        self.kind = kind
        self.hint = hint
        self._items: dict[str, T] = {}

    def add(self, name: str, obj: T) -> T:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is registered twice; names must be unique")
        self._items[name] = obj
        return obj

    def register(self, *names: str) -> Callable[[T], T]:
        """Decorator registering the object under each of `names` (default: its __name__)."""

        def decorate(obj: T) -> T:
            for name in names or (getattr(obj, "__name__"),):
                self.add(name, obj)
            return obj

        return decorate

    def get(self, name: str, default: T | None = None) -> T | None:
        return self._items.get(name, default)

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(
                unknown_name_message(self.kind, name, list(self._items), self.hint)
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())

    def summary(self, name: str) -> str:
        """One line saying what `name` is: its object's docstring's first line."""
        doc = getattr(self[name], "__doc__", None)
        return first_line(doc) if doc else name

    def choices_help(self) -> str:
        """'a (what a is), b (what b is)' in registration order: help texts for a choice."""
        return ", ".join(f"{name} ({self.summary(name).rstrip('.')})" for name in self._items)
