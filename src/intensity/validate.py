"""Validated parameters: one checker per kind of value, shared by every library entry point.

Each checker returns the value (converted: a float, an int) or raises the library's own error
(`intensity.errors`), whose message names the parameter in backticks, what was wrong, the range
with its unit, and an example of a good value. The CLI maps backticked names to its flags.

Sizes that cannot fit are refused before anything is allocated, with the estimate in the message
(`check_fits`); sizes that fit this machine but no accelerator get a warning text (`device_warning`).
"""
from __future__ import annotations

import math
import numbers
import os

from intensity.errors import ParameterError, ParameterTypeError, TooLargeError

# The largest accelerator memory a result is compared against (bytes): 192 GB (B200, MI300X).
LARGEST_DEVICE_BYTES = 192e9


def _describe(unit: str) -> str:
    return f" {unit}" if unit else ""


def check_number(value: object, name: str, *, unit: str = "", low: float | None = None,
                 high: float | None = None, low_open: bool = False, high_open: bool = False,
                 example: str = "") -> float:
    """`value` as a finite float in [low, high] (an end is excluded with `low_open`/`high_open`).

    Booleans, strings and other non-numbers raise ParameterTypeError; nan, inf and values out of
    range raise ParameterError. `unit` ("GB/s") and `example` ("900") go into the message.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterTypeError(f"`{name}` must be a number{_in(unit)}, not {type(value).__name__} "
                                 f"{value!r}{_example(example)}")
    number = float(value)
    if not math.isfinite(number) or not _in_range(number, low, high, low_open, high_open):
        bounds = _range(low, high, low_open, high_open)
        where = f" {bounds}{_describe(unit)}" if bounds else _in(unit)
        raise ParameterError(f"`{name}` must be a finite number{where}, got {value!r}{_example(example)}")
    return number


def check_positive(value: object, name: str, *, unit: str = "", example: str = "") -> float:
    """A finite number > 0 (a peak, a bandwidth, a learning rate, a speedup)."""
    number = check_number(value, name, unit=unit, example=example)
    if not number > 0:
        raise ParameterError(f"`{name}` must be a positive number{_in(unit)}, got {value!r}"
                             f"{_example(example)}")
    return number


def check_fraction(value: object, name: str, *, unit: str = "", example: str = "0.5") -> float:
    """A finite number in [0, 1]."""
    return check_number(value, name, unit=unit, low=0, high=1, example=example)


def check_int(value: object, name: str, *, low: int | None = 1, high: int | None = None,
              example: str = "") -> int:
    """`value` as an int in [low, high]; a float with an integral value (2.0) is accepted."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterTypeError(f"`{name}` must be an integer, not {type(value).__name__} {value!r}"
                                 f"{_example(example)}")
    if not _in_range(int(value), low, high, False, False):
        what = "a positive integer" if (low, high) == (1, None) else f"an integer {_range(low, high, False, False)}"
        raise ParameterError(f"`{name}` must be {what}, got {value}{_example(example)}")
    return int(value)


def check_text(value: object, name: str, *, example: str = "") -> str:
    """A non-empty string (a model name, a device name)."""
    if not isinstance(value, str):
        raise ParameterTypeError(f"`{name}` must be a name (a string), not {type(value).__name__} "
                                 f"{value!r}{_example(example)}")
    if not value.strip():
        raise ParameterError(f"`{name}` is empty{_example(example)}")
    return value


def check_names(value: object, name: str, *, example: str = "") -> tuple[str, ...]:
    """One name or a sequence of names (kernel kinds, block patterns) as a tuple of strings."""
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if value is None:
        return ()
    if not isinstance(value, (list, tuple, set, frozenset)) or not all(isinstance(v, str) for v in value):
        raise ParameterTypeError(f"`{name}` must be a list of names, not {type(value).__name__} "
                                 f"{value!r}{_example(example)}")
    return tuple(value)


def check_flag(value: object, name: str) -> bool | None:
    """True, False or None (automatic)."""
    if value is not None and not isinstance(value, bool):
        raise ParameterTypeError(f"`{name}` must be True, False or None, not {value!r}")
    return value


def check_bool(value: object, name: str) -> bool:
    """True or False (a string 'false' is truthy: refuse it rather than count the wrong graph)."""
    if not isinstance(value, bool):
        raise ParameterTypeError(f"`{name}` must be True or False, not {value!r}")
    return value


def _in_range(value: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    above = low is None or (value > low if low_open else value >= low)
    below = high is None or (value < high if high_open else value <= high)
    return above and below


def _range(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def _in(unit: str) -> str:
    return f" (in {unit})" if unit else ""


def _example(example: str) -> str:
    return f"; e.g. {example}" if example else ""


# --- sizes ------------------------------------------------------------------------------------

def human_bytes(count: float) -> str:
    """1.7e12 -> '1.7 TB' (decimal units, as memory and disks are sold)."""
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count:.0f} B"


def memory_bytes() -> float:
    """This machine's physical memory in bytes (1 TB where the system does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 1e12


def check_fits(estimate: float, what: str, fix: str, *, limit: float | None = None,
               room: str = "") -> None:
    """Refuse, before allocating, `what` (e.g. "the folded model's weights") whose estimated size
    in bytes exceeds `limit` (default: this machine's memory; `room` names another limit, such as
    a disk's free space); `fix` says what to change."""
    if limit is None:
        limit, room = memory_bytes(), room or "this machine's memory"
    room = room or "the limit"
    if estimate > limit:
        raise TooLargeError(f"{what} would need about {human_bytes(estimate)}, more than {room} "
                            f"({human_bytes(limit)}); {fix}")


def device_warning(estimate: float, what: str) -> str | None:
    """A warning when `what` (e.g. "the batch's activations") fits no accelerator's memory."""
    if estimate <= LARGEST_DEVICE_BYTES:
        return None
    return (f"{what} take about {human_bytes(estimate)}, more than any accelerator's memory "
            f"({human_bytes(LARGEST_DEVICE_BYTES)}): the figures are a model, no device can run it")
