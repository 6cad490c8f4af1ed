"""Building models by name: the zoo (`create_model`) and every spec a CLI argument may give
(`resolve_model`): a zoo name, `torchvision:NAME`, `timm:NAME`, `package.module:callable` or
`path/to/file.py:callable` (the last two through models/_user.py)."""
from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import torch

from intensity.errors import ParameterError, ParameterTypeError, first_line
from intensity.models._registry import DEFAULT_INPUT, MODELS, ModelEntry
from intensity.models._user import is_user_spec, user_builder
from intensity.registry import UnknownNameError, unknown_name_message


def _load_zoo() -> None:
    from intensity.models import (  # noqa: F401 (each registers its family on import)
        convfirst, nats, nin, resnet_cifar, specialized, squeezenet,
    )


# Zoo families whose name carries an argument after a colon, e.g. nats-size:8:16:32:32:64.
_PARAMETRIC = {"nats-size": "channels"}


def _check_name(name: object, parameter: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ParameterTypeError(f"`{parameter}` must be a model name such as 'resnet-cifar-20', "
                        f"'timm:resnet18' or 'mynet.py:build', not {name!r}")
    return name


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
    return _zoo_entry(_check_name(name, "name"))[0]


def create_model(name: str, **kwargs: object) -> torch.nn.Module:
    """A zoo CNN with fresh weights; `kwargs` go to its builder (e.g. num_classes)."""
    entry, implied = _zoo_entry(_check_name(name, "name"))
    _check_kwargs(name, entry.builder, kwargs)
    _check_sizes(kwargs)
    try:
        return entry.builder(**implied, **kwargs)
    except (RuntimeError, TypeError, ValueError) as error:  # a builder argument torch refuses
        raise ParameterError(f"model {name!r} cannot be built with {_given(kwargs)}: "
                             f"{first_line(error)}") from None


# Builder arguments that count things: a zero or negative count is refused before building.
_COUNTS = ("num_classes", "in_chans", "in_channels", "channels_in")


def _check_sizes(kwargs: dict[str, object]) -> None:
    from intensity.validate import check_int

    for key in _COUNTS:
        if key in kwargs:
            check_int(kwargs[key], key, low=1, example="10")


def _given(kwargs: dict[str, object]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in kwargs.items()) or "no arguments"


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
    source, _, rest = _check_name(spec, "model").partition(":")
    if source == "torchvision" and rest:
        return ResolvedModel(_build(_torchvision_builder(rest), meta), spec, _torchvision_input(rest))
    if source == "timm" and rest:
        module = _build(_timm_builder(rest, deploy), meta)
        cfg = getattr(module, "pretrained_cfg", None) or {}
        return ResolvedModel(module, spec, tuple(cfg.get("input_size", DEFAULT_INPUT)))
    if is_user_spec(spec) and source not in _PARAMETRIC:
        return ResolvedModel(_build(user_builder(spec), meta), spec, DEFAULT_INPUT)
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
        raise UnknownNameError(unknown_name_message("torchvision model", name, known))
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
        raise UnknownNameError(unknown_name_message("timm model", name, timm.list_models()))
    if deploy:
        return lambda: deploy_form(timm.create_model(name, pretrained=False))
    return lambda: timm.create_model(name, pretrained=False)
