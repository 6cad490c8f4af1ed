"""DESIGN's one-way layers, checked three ways; each checker is also shown to fail on a planted
violation, so none of them can pass by accident.

1. An AST walk of every module (imports inside functions too; `import intensity.x`,
   `from intensity.x import y`, `from intensity import x`, relative imports): no module imports a
   layer above its own, nor an independent sibling (`a | b`) in its own layer; importing the
   package root counts as importing what the root re-exports (the API).
2. No import cycles between any two modules (grimp's graph, strongly connected components).
3. The import-linter contracts in pyproject.toml (`lint-imports`): the same layer order, which this
   file reads from there (one source of truth), model families, kernels, the root, acyclic siblings.
"""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

import grimp
import networkx as nx
import pytest

import intensity

PACKAGE = Path(intensity.__file__).parent
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


@dataclass(frozen=True)
class Layer:
    members: frozenset[str]
    independent: bool  # `a | b`: siblings never import each other


def contracts(pyproject: Path = PYPROJECT) -> list[dict]:
    return tomllib.loads(pyproject.read_text())["tool"]["importlinter"]["contracts"]


def layer_order(pyproject: Path = PYPROJECT) -> list[Layer]:
    """The top-level layers of the `layers` contract, top first."""
    (contract,) = [c for c in contracts(pyproject) if c["id"] == "layers"]
    layers = []
    for line in contract["layers"]:
        separator = ":" if ":" in line else "|"
        members = frozenset(part.strip().strip("()") for part in line.split(separator))
        layers.append(Layer(members, separator == "|"))
    return layers


LAYERS = layer_order()


def _rank(top: str, layers: list[Layer]) -> int | None:
    """Rank of the top-level name `top` (0 is the highest layer); None when it has no layer."""
    return next((rank for rank, layer in enumerate(layers) if top in layer.members), None)


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, package: Path) -> set[str]:
    """Every module of the package that `path` imports, as dotted names (`intensity` for the root)."""
    root, module = package.name, _module_name(path, package)
    own_package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package, `level - 1` up
                anchor = own_package.split(".")[: len(own_package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:  # `from intensity import cost` imports intensity.cost
                submodule = f"{base}.{alias.name}"
                names.add(submodule if _is_module(submodule, package) else base)
    return {name for name in names if name == root or name.startswith(root + ".")}


def _is_module(name: str, package: Path) -> bool:
    relative = Path(*name.split(".")[1:])
    return (package / relative).with_suffix(".py").is_file() or (package / relative / "__init__.py").is_file()


def _top(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def _root_rank(package: Path, layers: list[Layer]) -> int:
    """Importing the package root imports what its __init__ re-exports: the highest of those layers."""
    ranks = [_rank(_top(name), layers) for name in imported_modules(package / "__init__.py", package)]
    return min((r for r in ranks if r is not None), default=len(layers))


def layer_violations(package: Path, layers: list[Layer]) -> list[str]:
    """'importer -> imported (why)' for every import against the layer order."""
    found, root_rank = [], _root_rank(package, layers)
    for path in sorted(package.rglob("*.py")):
        if path == package / "__init__.py":
            continue
        module = _module_name(path, package)
        own = _rank(_top(module), layers)
        for name in sorted(imported_modules(path, package)):
            why = _why(_top(module), own, _top(name), root_rank if _top(name) is None else _rank(_top(name), layers),
                       layers)
            if why:
                found.append(f"{module} -> {name} ({why})")
    return found


def _why(top: str | None, own: int | None, other: str | None, rank: int | None, layers: list[Layer]) -> str:
    if own is None or rank is None or top == other:
        return ""
    if rank < own:
        return "a layer above"
    if other is None and rank == own:
        return "the package root, which imports this layer"
    if rank == own and layers[own].independent:
        return "an independent sibling"
    return ""


def module_cycles(package_name: str) -> list[list[str]]:
    """Every set of modules that import each other in a circle (including package <-> submodule)."""
    graph = grimp.build_graph(package_name, cache_dir=None)
    edges = nx.DiGraph()
    edges.add_nodes_from(graph.modules)
    for module in graph.modules:
        edges.add_edges_from((module, imported) for imported in graph.find_modules_directly_imported_by(module))
    return sorted(sorted(c) for c in nx.strongly_connected_components(edges) if len(c) > 1)


def lint_imports(src: Path, config: Path = PYPROJECT) -> subprocess.CompletedProcess:
    """`lint-imports` on the package found under `src`, without a cache (nothing written)."""
    command = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
               "--config", str(config), "--no-cache"]
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=src, timeout=120)


# -- the real package

def test_no_module_imports_a_layer_above_its_own_or_an_independent_sibling():
    assert layer_violations(PACKAGE, LAYERS) == []


def test_every_subpackage_has_a_layer():
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.rglob("*.py")}
    tops -= {"__init__", "__main__", "__pycache__"}
    assert {t for t in tops if _rank(t, LAYERS) is None} == set()


def test_no_import_cycles():
    assert module_cycles("intensity") == []


def test_import_linter_contracts_hold():
    result = lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(contracts())} kept, 0 broken" in result.stdout


# -- each checker fails on a planted violation

PLANTED_LAYERS = [Layer(frozenset({"cli"}), True), Layer(frozenset({"api"}), True),
                  Layer(frozenset({"cost"}), True), Layer(frozenset({"hardware", "data"}), True),
                  Layer(frozenset({"models"}), True)]


def _plant(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_layer_checker_catches_every_import_form(tmp_path):
    package = tmp_path / "intensity"
    _plant(package, {
        "__init__.py": "from intensity.api import analyze\n",
        "api.py": "from intensity.cost import counter\n",
        "cli/__init__.py": "",
        "cost/__init__.py": "",
        "cost/counter.py": "import intensity.models\n",  # downward: fine
        "cost/upward.py": "def f():\n    import intensity.cli\n",  # lazily, still upward
        "cost/from_root.py": "from intensity import analyze\n",  # the root re-exports api: above cost
        "cost/from_root_module.py": "from intensity import cli\n",  # `from intensity import X` form
        "cost/relative.py": "from ..cli import app\n",
        "hardware/__init__.py": "from intensity.data import frames\n",  # independent sibling
        "data/__init__.py": "", "data/frames.py": "",
        "models/__init__.py": "from intensity.hardware import spec\n",  # sibling order: models below
    })
    assert layer_violations(package, PLANTED_LAYERS) == [
        "intensity.cost.from_root -> intensity (a layer above)",
        "intensity.cost.from_root_module -> intensity.cli (a layer above)",
        "intensity.cost.relative -> intensity.cli (a layer above)",
        "intensity.cost.upward -> intensity.cli (a layer above)",
        "intensity.hardware -> intensity.data.frames (an independent sibling)",
        "intensity.models -> intensity.hardware (a layer above)",
    ]


def test_layer_checker_catches_the_api_importing_the_root(tmp_path):
    package = tmp_path / "intensity"
    _plant(package, {"__init__.py": "from intensity.api import analyze\n",
                     "api.py": "import intensity\n", "cost/__init__.py": ""})
    assert layer_violations(package, PLANTED_LAYERS) == [
        "intensity.api -> intensity (the package root, which imports this layer)"]


def test_cycle_checker_catches_sibling_and_parent_cycles(tmp_path, monkeypatch):
    _plant(tmp_path / "planted_cycles", {
        "__init__.py": "from planted_cycles import b\n",
        "a.py": "from planted_cycles.c import x\n",
        "c.py": "def f():\n    from planted_cycles import a\n",  # lazily: still a cycle
        "b.py": "import planted_cycles\n",  # a child importing its package's __init__
        "clean.py": "from planted_cycles import a\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    assert module_cycles("planted_cycles") == [
        ["planted_cycles", "planted_cycles.b"], ["planted_cycles.a", "planted_cycles.c"]]


def _copy_package(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "intensity", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + line + "\n")


PLANTED = {  # contract id: (file, the line appended to it)
    "layers": ("cost/result.py", "import intensity.cli  # upward"),
    "model-families": ("models/nin.py", "from intensity.models import convfirst  # family to family"),
    "kernels-no-families": ("kernels/reference.py", "from intensity.models.convfirst import ConvFirst"),
    "root": ("cost/metrics.py", "from intensity import analyze  # the root, from below the API"),
    "acyclic": ("data/folders.py", "from intensity.data import game_text  # game_text imports folders"),
}


def test_every_contract_has_a_planted_violation():
    assert sorted(PLANTED) == sorted(c["id"] for c in contracts())


@pytest.mark.parametrize("contract_id", sorted(PLANTED))
def test_import_linter_breaks_the_contract_on_a_planted_violation(tmp_path, contract_id):
    src = _copy_package(tmp_path)
    file, line = PLANTED[contract_id]
    _append(src / "intensity" / file, line)
    result = lint_imports(src)
    (name,) = [c["name"] for c in contracts() if c["id"] == contract_id]
    assert result.returncode != 0
    assert f"{name} BROKEN" in " ".join(result.stdout.split()), result.stdout


def test_import_linter_requires_every_subpackage_in_a_layer(tmp_path):
    src = _copy_package(tmp_path)
    _plant(src / "intensity", {"newpackage/__init__.py": ""})
    result = lint_imports(src)
    assert result.returncode != 0
    assert "intensity.newpackage" in result.stdout.replace("\n", " ")
