"""Design spaces: named sets of architectures, each point an architecture string.

- `nats-size`: NATS-Bench's size space (seed 003 4.1): 8 widths {8..64} for each of 5 slots,
  32768 networks, indexed as NATS-Bench does (last slot fastest: 0 = 8:8:8:8:8,
  11 = 8:8:8:16:32, 32767 = 64:64:64:64:64), per dataset (10/100/120 classes, 32x32 or 16x16).
- `fire`: SqueezeNet's Fire metaparameters (seed 002 5.5.1: base_e, incr_e, pct3x3, freq, SR) and
  the macro variants of 5.6 (bypass none/simple/complex), over ranges the user gives.
- any registered zoo model: a grid over its keyword arguments (`width=0.5,1,2`).

A point is a string (`8:16:24:32:40`, `base_e=128,bypass=none,...`): cheap to store and to send to
Dask workers, which rebuild the module themselves. `Space.spec` is a JSON-able dict from which
`make_space(**spec)` rebuilds the same space (the results store keeps it).
"""
from __future__ import annotations

import inspect
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch

from intensity.registry import Registry

NATS_CHOICES = tuple(range(8, 65, 8))
NATS_SLOTS = 5
NATS_SIZE = len(NATS_CHOICES) ** NATS_SLOTS  # 32768
# dataset -> (classes, input shape), as NATS-Bench trains them
NATS_DATASETS = {"cifar10": (10, (3, 32, 32)), "cifar10-valid": (10, (3, 32, 32)),
                 "cifar100": (100, (3, 32, 32)), "ImageNet16-120": (120, (3, 16, 16))}
# seed 002 5.5.1: SqueezeNet's own metaparameters, the defaults of every unspecified axis
FIRE_DEFAULTS = {"base_e": 128, "incr_e": 128, "pct3x3": 0.5, "freq": 2, "sr": 0.125,
                 "bypass": "none"}
FIRE_TYPES = {"base_e": int, "incr_e": int, "pct3x3": float, "freq": int, "sr": float, "bypass": str}
# The named spaces: builder(dataset, grid) -> Space, its docstring's first line the description.
# Adding a space is one decorated function; any zoo model is a space too (MODEL_SPACE, below).
SPACES: Registry[Callable[..., Space]] = Registry(
    "space", "use nats-size, fire, or a zoo model name with --grid (intensity space list)")
MODEL_SPACE = ("MODEL", "any zoo model (intensity list-models) with --grid over its keyword arguments")


# --- NATS-Bench index convention --------------------------------------------------------------
def nats_arch(index: int) -> str:
    """NATS-Bench index -> '8:8:8:16:32' (index = sum((c_i/8 - 1) * 8**(4-i)), last slot fastest)."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < NATS_SIZE:
        raise ValueError(f"NATS size index {index!r} out of range: give 0..{NATS_SIZE - 1}")
    digits = []
    for _ in range(NATS_SLOTS):
        index, digit = divmod(index, len(NATS_CHOICES))
        digits.append(NATS_CHOICES[digit])
    return ":".join(str(c) for c in reversed(digits))


def nats_index(arch: str) -> int:
    """'8:8:8:16:32' -> 11 (the inverse of `nats_arch`)."""
    from intensity.models.nats import parse_channels

    index = 0
    for channels in parse_channels(arch):
        index = index * len(NATS_CHOICES) + NATS_CHOICES.index(channels)
    return index


# --- spaces -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Space:
    """A finite set of architectures of one model family, each point an architecture string."""

    name: str
    spec: dict
    description: str
    input_shape: tuple[int, ...]
    num_classes: int
    _points: tuple[str, ...] = field(repr=False, default=())

    @property
    def size(self) -> int:
        return len(self._points)

    @property
    def key(self) -> str:
        """The space's identity in a results store."""
        return json.dumps(self.spec, sort_keys=True)

    def points(self) -> list[str]:
        return list(self._points)

    def point(self, index: int) -> str:
        return self._points[index]

    def canonical(self, point: str) -> str:
        """A user's point (an index, or a string in any order) -> the space's own string."""
        text = point.strip()
        if text.isdigit():
            if int(text) >= self.size:
                raise ValueError(f"point index {text} is out of range: space {self.name} has "
                                 f"{self.size} points, 0..{self.size - 1}")
            return self._points[int(text)]
        if self.name == "nats-size":
            return nats_arch(nats_index(text))
        parsed = _parse_kwargs(text)
        key = _kwargs_text({k: parsed.get(k) for k in self.spec["grid"]})
        if key not in self._index:
            raise ValueError(f"point {point!r} is not in space {self.name}; it has {self.size} points "
                             f"such as {self._points[0]!r} (see `intensity space show {self.name}`)")
        return key

    @property
    def _index(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self._points)}

    def model_name(self, point: str) -> str:
        """A label for reports: the zoo name and its arguments."""
        return f"{self.spec['model']}:{point}" if self.name == "nats-size" else \
            f"{self.spec['model']}({point})"

    def build(self, point: str, meta: bool = True) -> torch.nn.Module:
        """The point's module (on `meta` by default: no weights allocated)."""
        from intensity.models import create_model

        kwargs = self.kwargs(point)
        if meta:
            with torch.device("meta"):
                return create_model(self.spec["model"], **kwargs)
        return create_model(self.spec["model"], **kwargs)

    def kwargs(self, point: str) -> dict:
        if self.name == "nats-size":
            return {"channels": point, "num_classes": self.num_classes}
        return _parse_kwargs(point, self._types)

    @property
    def _types(self) -> dict[str, type]:
        return {k: type(v[0]) for k, v in self.spec["grid"].items()}


def make_space(name: str, *, dataset: str | None = None, grid: dict[str, Sequence] | None = None,
               model: str | None = None) -> Space:  # noqa: ARG001 (model: part of a stored spec)
    """The space `name`: a registered one (nats-size with `dataset`, fire) or a zoo model (with `grid`)."""
    if name in SPACES:
        return SPACES[name](dataset, grid or {})
    if dataset is not None:
        raise ValueError(f"`dataset` picks nats-size's input (CIFAR or ImageNet16-120 shapes) and applies to that "
                         f"space only, not {name!r}; leave it out")
    return _grid_space(name, grid or {})


def describe(name: str) -> str:
    """A registered space's one-line description (its builder's docstring)."""
    return (SPACES[name].__doc__ or name).strip().splitlines()[0]


def space_descriptions() -> dict[str, str]:
    """{name: description} of every space, the zoo-model grid last (for `space list` and help)."""
    return {**{name: describe(name) for name in SPACES.names()}, MODEL_SPACE[0]: MODEL_SPACE[1]}


@SPACES.register("nats-size")
def _nats_space(dataset: str | None, grid: dict[str, Sequence]) -> Space:
    """NATS-Bench size space: 5 widths in 8..64, 32768 networks (seed 003 4.1)"""
    if grid:
        raise ValueError("nats-size takes no --grid: its points are the 32768 width choices")
    dataset = dataset or "cifar10"
    if dataset not in NATS_DATASETS:
        raise ValueError(f"unknown NATS dataset {dataset!r}; choose one of {', '.join(NATS_DATASETS)}")
    classes, shape = NATS_DATASETS[dataset]
    points = tuple(nats_arch(i) for i in range(NATS_SIZE))
    return Space("nats-size", {"name": "nats-size", "dataset": dataset, "model": "nats-size"},
                 f"{describe('nats-size')}, {dataset}: {classes} classes, input {'x'.join(map(str, shape))}",
                 shape, classes, points)


@SPACES.register("fire")
def _fire_space(dataset: str | None, grid: dict[str, Sequence]) -> Space:
    """SqueezeNet Fire metaparameters and bypass variants (seed 002 5.5-5.6)"""
    if dataset is not None:
        raise ValueError("`dataset` picks nats-size's input (CIFAR or ImageNet16-120 shapes) and applies to that "
                         "space only, not 'fire'; leave it out")
    unknown = sorted(set(grid) - set(FIRE_DEFAULTS))
    if unknown:
        raise ValueError(f"fire has no metaparameter {', '.join(unknown)}; the axes are "
                         f"{', '.join(FIRE_DEFAULTS)} (seed 002 5.5-5.6), e.g. --grid base_e=64,128")
    axes = {k: [FIRE_TYPES[k](v) for v in grid.get(k, [d])] for k, d in FIRE_DEFAULTS.items()}
    for value in axes["bypass"]:
        if value not in ("none", "simple", "complex"):
            raise ValueError(f"unknown bypass {value!r}; choose none, simple or complex")
    return _product_space("fire", "squeezenet-fire", axes, describe("fire"), (3, 224, 224), 1000)


def _grid_space(model: str, grid: dict[str, Sequence]) -> Space:
    from intensity.models import list_models, model_entry

    if model not in list_models():
        known = ", ".join(SPACES.names())
        raise KeyError(f"unknown space {model!r}: use {known}, or a zoo model name with --grid "
                       f"(intensity list-models)")
    entry = model_entry(model)
    parameters = inspect.signature(entry.builder).parameters
    unknown = sorted(set(grid) - set(parameters))
    if unknown:
        raise ValueError(f"model {model!r} has no keyword argument {', '.join(unknown)}; it takes "
                         f"{', '.join(parameters) or 'none'}")
    if not grid:
        raise ValueError(f"a model space needs --grid over its keyword arguments "
                         f"({', '.join(parameters) or 'it has none'}), e.g. --grid NAME=1,2")
    axes = {k: [_typed(v, parameters[k].default, k) for v in values] for k, values in grid.items()}
    return _product_space(model, model, axes, f"grid over {model}'s keyword arguments",
                          entry.input_shape, entry.num_classes)


def _product_space(name: str, model: str, axes: dict[str, list], description: str,
                   shape: tuple[int, ...], classes: int) -> Space:
    points = tuple(_kwargs_text(dict(zip(axes, values)))
                   for values in itertools.product(*axes.values()))
    spec = {"name": name, "model": model, "grid": axes}
    return Space(name, spec, description, tuple(shape), classes, points)


def _typed(text: object, default: object, axis: str = "") -> object:
    """A grid value as the type of the argument's default (int, float, bool or str)."""
    if not isinstance(text, str):
        return text
    kind = type(default) if default is not inspect.Parameter.empty and default is not None else None
    try:
        if kind is bool:
            return {"true": True, "false": False, "1": True, "0": False}[text.lower()]
        if kind in (int, float):
            return kind(text)
    except (KeyError, ValueError):
        raise ValueError(f"grid axis {axis} value {text!r} is not a {kind.__name__} (the type of "
                         f"{axis}'s default {default!r}); give e.g. --grid {axis}={default}") from None
    return _number(text)


def _number(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _kwargs_text(kwargs: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in kwargs.items())


def _parse_kwargs(text: str, types: dict[str, type] | None = None) -> dict:
    result = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"malformed point {text!r}: expected NAME=VALUE pairs separated by commas")
        kind = (types or {}).get(key.strip())
        result[key.strip()] = kind(value.strip()) if kind and kind is not bool else \
            (value.strip() == "True" if kind is bool else _number(value.strip()))
    return result


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """['width=0.5,1,2', 'depth=1'] -> {'width': ['0.5', '1', '2'], 'depth': ['1']}."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        parts = [v.strip() for v in values.split(",")]
        if not sep or not key.strip() or not key.strip().isidentifier() or not all(parts):
            raise ValueError(f"malformed grid {item!r}: expected NAME=V1,V2,... such as width=0.5,1,2")
        if key.strip() in grid:
            raise ValueError(f"grid axis {key.strip()!r} given twice; list all its values once")
        grid[key.strip()] = parts
    return grid


def check_space(space: Space) -> None:
    """Build (on meta) one point per grid value, so a bad value fails before any work or store:
    each axis is varied alone from the first point, and the failing `--grid AXIS=VALUE` is named."""
    import warnings

    if space.name == "nats-size":
        return  # fixed widths, all valid
    grid = space.spec["grid"]
    first = space.kwargs(space.point(0))
    # (the axis values that may be at fault, kwargs): first all of point 0, then one axis varied
    tried = [(first, first)] + [({k: v}, {**first, k: v}) for k, values in grid.items()
                                for v in values[1:]]
    for suspects, kwargs in tried:
        point, blame = _kwargs_text(kwargs), " or ".join(f"{k}={v}" for k, v in suspects.items())
        try:
            with warnings.catch_warnings():  # torch's zero-element UserWarnings: reported below
                warnings.simplefilter("ignore")
                module = space.build(point)
        except Exception as error:  # noqa: BLE001 (any build failure is a bad grid value)
            raise ValueError(f"space {space.name}: point {point} cannot be built ({error}); fix "
                             f"--grid {blame}") from None
        empty = [n for n, p in module.named_parameters() if p.numel() == 0]
        if empty:
            raise ValueError(f"space {space.name}: point {point} builds zero-size weights ({empty[0]}); "
                             f"fix --grid {blame}: every value must give a non-empty network")


def iter_points(space: Space, selection: Sequence[str] | None = None,
                sample: int | None = None, seed: int = 0) -> Iterator[str]:
    """The space's points, or the named ones, or a seeded random sample of them."""
    if selection is not None and sample is not None:
        raise ValueError("give --points or --sample, not both")
    if selection is not None:
        if not selection:  # an empty list is a mistake, never 'every point'
            raise ValueError(f"`points` is empty; give point indices or strings, e.g. --points 0,11 "
                             f"(or leave it out to take all {space.size} points)")
        yield from dict.fromkeys(space.canonical(p) for p in selection)
        return
    if sample is not None:
        import random

        if not 0 < sample <= space.size:
            raise ValueError(f"sample {sample} must be in 1..{space.size} (the space's size)")
        for index in sorted(random.Random(seed).sample(range(space.size), sample)):
            yield space.point(index)
        return
    yield from space.points()


def parse_points(text: str | None) -> list[str] | None:
    """'0,11' or 'a=1,b=2;a=2,b=2' (';' between grid points) -> the point strings; None -> None
    (all points). Empty text is refused by `iter_points`, not read as 'all'."""
    if text is None:
        return None
    return [p.strip() for p in text.split(";" if ";" in text or "=" in text else ",") if p.strip()]
