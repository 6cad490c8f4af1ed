"""DESIGN's one-way layers: a module never imports from a layer above its own, not even lazily.

cli -> ops -> report -> explore -> train -> measure -> analysis -> api -> cost
    -> {hardware, models, transforms, kernels, data} -> {registry, dtypes, errors, progress, config, output}
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import intensity

LAYERS = [
    {"cli"}, {"ops"}, {"report"}, {"explore"}, {"train"}, {"measure"}, {"analysis"}, {"api"}, {"cost"},
    {"hardware", "models", "transforms", "kernels", "data"}, {"registry", "dtypes", "errors", "progress", "config", "output"},
]
PACKAGE = Path(intensity.__file__).parent


def _layer(name: str) -> int | None:
    """Rank of `intensity.<name>...` (0 is the top); None for the package root itself."""
    for rank, members in enumerate(LAYERS):
        if name in members:
            return rank
    return None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n.split(".")[1] for n in names if n.startswith("intensity.") and n.count(".") >= 1}


def _modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "__init__.py"]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path):
    own = _layer(path.relative_to(PACKAGE).parts[0].removesuffix(".py"))
    if own is None:
        pytest.skip("not in a layer")
    above = sorted(name for name in _imports(path) if (_layer(name) is not None and _layer(name) < own))
    assert not above, f"{path.relative_to(PACKAGE)} imports {above}, a layer above its own"


def test_every_subpackage_has_a_layer():
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in _modules()}
    tops -= {"__main__", "__pycache__"}
    assert {t for t in tops if _layer(t) is None} == set()
