"""The model zoo and model resolution.

`create_model(name)` builds a registered zoo CNN; `resolve_model(spec)` also understands
`torchvision:NAME`, `timm:NAME` and `package.module:callable`, and knows each model's input size.
"""
from __future__ import annotations

import fnmatch
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import torch

from intensity.models._registry import DEFAULT_INPUT, MODELS, ModelEntry, register_model
from intensity.registry import UnknownNameError

__all__ = ["DEFAULT_INPUT", "MODELS", "ModelEntry", "ResolvedModel", "create_model", "list_models",
           "model_entries", "model_entry", "register_model", "resolve_model"]


def _load_zoo() -> None:
    from intensity.models import (  # noqa: F401 (each registers its family on import)
        convfirst, nats, nin, resnet_cifar, specialized, squeezenet,
    )


# Zoo families whose name carries an argument after a colon, e.g. nats-size:8:16:32:32:64.
_PARAMETRIC = {"nats-size": "channels"}


def _zoo_entry(name: str) -> tuple[ModelEntry, dict[str, object]]:
    """The zoo entry for `name`, plus the argument a parametric name carries."""
    _load_zoo()
    family, _, argument = name.partition(":")
    if argument and family in _PARAMETRIC:
        return MODELS[family], {_PARAMETRIC[family]: argument}
    return MODELS[name], {}


def _matches(name: str, pattern: str) -> bool:
    """A glob ('noscope-*') matches as a glob; plain text ('squeeze') matches any part of a name."""
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatch(name, pattern)
    return pattern.lower() in name.lower()


def model_entries(pattern: str = "*") -> list[ModelEntry]:
    """Zoo entries (builder, family, input shape, classes) whose names match `pattern`."""
    _load_zoo()
    return [entry for name, entry in MODELS.items() if _matches(name, pattern)]


def list_models(pattern: str = "*") -> list[str]:
    """Zoo model names matching a glob or a substring (timm's convention: names, not entries)."""
    return [entry.name for entry in model_entries(pattern)]


def model_entry(name: str) -> ModelEntry:
    """The zoo entry of one model name (parametric names such as nats-size:8:8:8:8:8 included)."""
    return _zoo_entry(name)[0]


def create_model(name: str, **kwargs: object) -> torch.nn.Module:
    entry, implied = _zoo_entry(name)
    _check_kwargs(name, entry.builder, kwargs)
    return entry.builder(**implied, **kwargs)


def _check_kwargs(name: str, builder: Callable, kwargs: dict[str, object]) -> None:
    accepted = [p for p in inspect.signature(builder).parameters if p != "kwargs"]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(f"model {name!r} does not take {', '.join(unknown)}; it takes: "
                         f"{', '.join(accepted) or 'no arguments'}")


@dataclass
class ResolvedModel:
    module: torch.nn.Module
    name: str
    input_shape: tuple[int, ...]


def resolve_model(spec: str, *, meta: bool = False, deploy: bool = True) -> ResolvedModel:
    """Build the model a CLI argument names. With `meta`, weights are not allocated when possible.
    With `deploy`, timm models that reparameterize for inference come in their deployed form."""
    source, _, rest = spec.partition(":")
    if source == "torchvision" and rest:
        return ResolvedModel(_build(_torchvision_builder(rest), meta), spec, _torchvision_input(rest))
    if source == "timm" and rest:
        module = _build(_timm_builder(rest, deploy), meta)
        cfg = getattr(module, "pretrained_cfg", None) or {}
        return ResolvedModel(module, spec, tuple(cfg.get("input_size", DEFAULT_INPUT)))
    if rest and source not in ("torchvision", "timm", *_PARAMETRIC):
        return ResolvedModel(_build(_callable_builder(source, rest), meta), spec, DEFAULT_INPUT)
    entry, implied = _zoo_entry(spec)
    return ResolvedModel(_build(lambda: entry.builder(**implied), meta), spec, entry.input_shape)


def _build(builder: Callable[[], torch.nn.Module], meta: bool) -> torch.nn.Module:
    if meta:
        try:
            with torch.device("meta"):
                return builder()
        except Exception:  # some constructors read tensor values (e.g. .item()): build for real
            pass
    return builder()


def _torchvision_builder(name: str) -> Callable[[], torch.nn.Module]:
    import torchvision

    known = torchvision.models.list_models()
    if name not in known:
        raise UnknownNameError(_unknown("torchvision model", name, known))
    builder = torchvision.models.get_model_builder(name)
    return lambda: builder(**_offline_kwargs(builder))


# Every switch that would download weights, off; segmentation models keep their auxiliary head,
# as the weights torchvision publishes (and its `_ops` figures) include it.
_OFFLINE = {"weights": None, "weights_backbone": None, "quantize": False, "aux_loss": True}


def _offline_kwargs(builder: Callable) -> dict[str, object]:
    accepted = inspect.signature(builder).parameters
    return {key: value for key, value in _OFFLINE.items() if key in accepted}


def _torchvision_input(name: str) -> tuple[int, ...]:
    """One image's shape from the published weights' preprocessing (crop, else resize size).

    Detection models resize internally (min_size 800 for most); they get 3x800x800.
    """
    import torchvision

    builder = torchvision.models.get_model_builder(name)
    if ".detection." in builder.__module__:
        return (3, 800, 800)
    try:
        weights = next(iter(torchvision.models.get_model_weights(name)))
        sizes = getattr(weights.transforms, "keywords", {})
    except (ValueError, StopIteration, AttributeError):  # a builder without published weights
        return DEFAULT_INPUT
    size = sizes.get("crop_size", sizes.get("resize_size"))
    if ".video." in builder.__module__ or size is None:
        return DEFAULT_INPUT
    size = size if isinstance(size, (tuple, list)) else (size, size)
    return (3, *size) if len(size) == 2 else (3, size[0], size[0])


def _timm_builder(name: str, deploy: bool = True) -> Callable[[], torch.nn.Module]:
    import timm

    from intensity.models.deploy import deploy_form

    if not timm.is_model(name):
        raise UnknownNameError(_unknown("timm model", name, timm.list_models()))
    if deploy:
        return lambda: deploy_form(timm.create_model(name, pretrained=False))
    return lambda: timm.create_model(name, pretrained=False)


def _callable_builder(module_name: str, attribute: str) -> Callable[[], torch.nn.Module]:
    spec = f"{module_name}:{attribute}"
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"cannot import {module_name!r} for model {spec} "
                         f"({error}); is it on PYTHONPATH?") from None
    target = getattr(module, attribute, None)
    if target is None:
        raise ValueError(f"module {module_name!r} has no attribute {attribute!r}")
    if isinstance(target, torch.nn.Module):
        return lambda: target
    if not callable(target):
        raise ValueError(f"{spec} is of type {type(target).__name__}, not an nn.Module or a function "
                         f"that returns one")
    _check_no_arguments(target, spec)
    return lambda: _checked_module(_call(target, spec), spec)


def _check_no_arguments(target: Callable, spec: str) -> None:
    """A `module:callable` model is built with no arguments: say so before calling it."""
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: just try calling them
        return
    required = [p.name for p in parameters if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if required:
        raise ValueError(f"{spec} needs arguments ({', '.join(required)}) but is called with "
                         f"none; give defaults or name a wrapper function that takes no arguments")


def _call(target: Callable, spec: str) -> object:
    try:
        return target()
    except Exception as error:  # the user's code: report it in one line, naming it
        raise ValueError(f"{spec}() raised {type(error).__name__}: {_first_line(error)}; fix "
                         f"the callable so that it builds the model with no arguments") from None


def _checked_module(obj: object, spec: str) -> torch.nn.Module:
    if not isinstance(obj, torch.nn.Module):
        raise ValueError(f"{spec} returned {type(obj).__name__}, not a torch.nn.Module")
    return obj


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def _unknown(kind: str, name: str, known: list[str]) -> str:
    from intensity.registry import unknown_name_message

    return unknown_name_message(kind, name, known)
