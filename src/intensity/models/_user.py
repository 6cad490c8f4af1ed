"""Models from the user's own code: `package.module:callable` (the current directory importable,
as `python -m` makes it) and `path/to/file.py:callable` (relative, `./`, or absolute).

A file's folder is importable while it loads and builds, so `from blocks import X` beside it
works; a file inside a package (its folder has __init__.py) is imported under its package name,
so its relative imports work too. Every failure is one line naming the file and the fix.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import torch

from intensity.errors import first_line

_PREFIXES = ("torchvision", "timm")


def is_user_spec(spec: str) -> bool:
    """`module:callable`, `file.py:callable` or a bare `file.py` (answered with what to add)."""
    target, colon, attribute = spec.rpartition(":")
    if not colon:
        return spec.endswith(".py")
    return bool(target) and target not in _PREFIXES and (bool(attribute) or target.endswith(".py"))


def user_builder(spec: str) -> Callable[[], torch.nn.Module]:
    """A zero-argument builder for the model `spec` names, after checking everything it can."""
    target, colon, attribute = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if target.endswith(".py"):
        path = _check_file(Path(target).expanduser(), spec)
        folder, module = _load_file(path, spec)
    else:
        folder = Path.cwd()
        with _importable(folder):
            module = _import_module(target, spec)
    if not attribute:
        raise ValueError(f"`model` {spec!r} names a file but not the function that builds the model; "
                         f"give FILE.py:NAME, e.g. {_example(module, target)}")
    where = _where(module)
    builder = _builder(_attribute(module, attribute, spec, where), spec, where)
    return lambda: _in(folder, builder)


def user_source_file(spec: str) -> str | None:
    """The Python file a user model `spec` is read from (FILE.py:NAME, or module:NAME found from
    the current directory or the import path), or None: outputs must never overwrite it."""
    if not is_user_spec(spec):
        return None
    target = spec.rpartition(":")[0] if ":" in spec else spec
    if target.endswith(".py"):
        return target
    with _importable(Path.cwd()):
        try:
            found = _find(target)
        except Exception:  # noqa: BLE001 - a parent package that fails: the build reports it
            return None
    return found if found and found.endswith(".py") else None


def _in(folder: Path, builder: Callable[[], torch.nn.Module]) -> torch.nn.Module:
    with _importable(folder):  # the user's code may import lazily, inside the callable
        return builder()


@contextlib.contextmanager
def _importable(folder: Path) -> Iterator[None]:
    """`folder` first on sys.path for the duration (taken off again if it was not there)."""
    entry = str(folder)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


def _check_file(path: Path, spec: str) -> Path:
    if path.is_dir():
        raise ValueError(f"model file {path} is a directory; give a Python file: path/to/file.py:callable")
    if not path.is_file():
        raise ValueError(f"model file {path} does not exist (from {Path.cwd()}); check the path in "
                         f"`model` {spec!r}")
    return path.resolve()


def _package_name(path: Path) -> tuple[Path, str]:
    """(the folder to import from, the dotted name): a file in a package keeps its package name."""
    parts, folder = [path.stem], path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return folder, ".".join(parts)


def _load_file(path: Path, spec: str) -> tuple[Path, ModuleType]:
    folder, name = _package_name(path)
    with _importable(folder):
        if "." in name:  # a package's module: import it by name so relative imports resolve
            module = _import_module(name, spec, path)
            if Path(module.__file__ or "").resolve() == path:
                return folder, module
        return folder, _exec_file(path, spec)


def _exec_file(path: Path, spec: str) -> ModuleType:
    """A stand-alone file as a module named after it (a private name if that one is taken by
    another module), run on its first use only."""
    name = path.stem
    loaded = sys.modules.get(name)
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == path:
        return loaded  # imported once, as Python does: its registrations (custom ops) run once
    if loaded is not None:
        name = f"_intensity_user_{abs(hash(str(path)))}_{path.stem}"
        if name in sys.modules:
            return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        with _user_code(spec, f"model file {path}"):
            module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


# Extensions users give by mistake where a FILE.py:NAME belongs (an image, weights, a table).
NOT_PYTHON = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "pt", "pth", "ckpt", "bin", "onnx", "safetensors",
                        "csv", "txt", "json", "toml", "yaml", "yml", "npz", "npy", "mp4", "md", "html"})


def _import_module(name: str, spec: str, path: Path | None = None) -> ModuleType:
    with _user_code(spec, f"module {name!r}"):  # finding a dotted name runs its packages' __init__
        found = _find(name)
    suffix = name.rpartition(".")[2].lower()
    if found is None and suffix in NOT_PYTHON:
        raise ValueError(f"`model` {spec!r} names {name!r}, a .{suffix} file, not Python: a model of your own is "
                         f"FILE.py:NAME (a .py file and a function in it that returns an nn.Module)")
    if found is None:
        raise ValueError(f"cannot import {name!r} for `model` {spec!r}: no {name.replace('.', '/')}.py "
                         f"in {Path.cwd()} nor on the import path; run from the folder that holds it, "
                         f"or give its path: path/to/{name.rpartition('.')[2]}.py:{spec.rpartition(':')[2] or 'NAME'}")
    with _user_code(spec, f"model file {path or found}"):
        return importlib.import_module(name)


def _find(name: str) -> str | None:
    """Where module `name` would be loaded from, or None when it cannot be found."""
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # a parent package missing, or a malformed name
        return None
    return None if found is None else (found.origin or name)


@contextlib.contextmanager
def _user_code(spec: str, what: str) -> Iterator[None]:
    """Whatever the user's file raises while loading, as one ValueError naming the file and the fix."""
    try:
        yield
    except SyntaxError as error:
        raise ValueError(f"{what} has a syntax error at {error.filename}:{error.lineno}: {error.msg}; "
                         f"fix the file (python -m py_compile shows it)") from None
    except ImportError as error:
        raise ValueError(_import_error(error, what)) from None
    except SystemExit as error:
        raise ValueError(f"{what} exited while being imported (SystemExit {error.code}); put its "
                         f"script code under `if __name__ == \"__main__\":`") from None
    except Exception as error:
        raise ValueError(f"{what} raised {type(error).__name__} while being imported: "
                         f"{first_line(error)}; fix the file") from None


def _import_error(error: ImportError, what: str) -> str:
    text = first_line(error)
    if "relative import" in text:
        return (f"{what} uses a relative import ({text}); a stand-alone file cannot: import by "
                f"name instead (its folder is importable), or add __init__.py to its folder to make "
                f"it a package")
    if isinstance(error, ModuleNotFoundError) and error.name:
        return (f"{what} imports {error.name!r}, which is not installed or not found ({text}); "
                f"install it, or run from the folder that holds it")
    return f"{what} failed to import: {text}; fix the import"


def _where(module: ModuleType) -> str:
    return getattr(module, "__file__", None) or module.__name__


def _candidates(module: ModuleType) -> list[str]:
    """What in the user's module could build a model: its own functions and classes, modules."""
    return [name for name, value in vars(module).items() if not name.startswith("_") and (
        isinstance(value, torch.nn.Module)
        or (callable(value) and getattr(value, "__module__", None) == module.__name__))]


def _example(module: ModuleType, target: str) -> str:
    names = _candidates(module)
    return f"{target}:{names[0]}" if names else f"{target}:build (a function that returns the model)"


def _attribute(module: ModuleType, attribute: str, spec: str, where: str) -> object:
    if hasattr(module, attribute):
        return getattr(module, attribute)
    names = _candidates(module)
    defined = f"it defines {', '.join(names)}" if names else "it defines no function or class"
    raise ValueError(f"{where} has no attribute {attribute!r} for `model` {spec!r}; {defined}; name "
                     f"the function that returns the model after the colon")


def _builder(target: object, spec: str, where: str) -> Callable[[], torch.nn.Module]:
    if isinstance(target, torch.nn.Module):
        return lambda: target
    if not callable(target):
        raise ValueError(f"{spec} is of type {type(target).__name__}, not an nn.Module or a function "
                         f"that returns one (in {where})")
    _check_no_arguments(target, spec)
    return lambda: _checked_module(_call(target, spec, where), spec, where)


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


def _call(target: Callable, spec: str, where: str) -> object:
    try:
        return target()
    except SystemExit as error:  # sys.exit in a builder must not end the caller's program silently
        raise ValueError(f"{spec}() exited (SystemExit {error.code}) instead of returning a model "
                         f"(in {where}); return the model from the callable") from None
    except Exception as error:  # the user's code: report it in one line, naming it
        raise ValueError(f"{spec}() raised {type(error).__name__}: {first_line(error)} (in {where}); fix "
                         f"the callable so that it builds the model with no arguments") from None


def _checked_module(obj: object, spec: str, where: str) -> torch.nn.Module:
    if not isinstance(obj, torch.nn.Module):
        raise ValueError(f"{spec} returned {type(obj).__name__}, not a torch.nn.Module (in {where}); "
                         f"return the model itself, e.g. `return MyNet()`")
    return obj
