"""The documentation site builds with `mkdocs build --strict` (into a temporary directory, never the
repository), and the strict build really fails on a broken link or anchor."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.docs.markdown_examples import REPO

if importlib.util.find_spec("mkdocs") is None and not os.environ.get("CI"):
    pytest.skip("mkdocs is not installed: pip install -c constraints.txt -e '.[docs]'", allow_module_level=True)


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          cwd=config.parent, env=env, capture_output=True, text=True, timeout=600)


def test_site_builds_strict(tmp_path: Path) -> None:
    result = build(REPO / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "architecture" / "index.html").is_file()
    assert "intensity.api.analyze" in (tmp_path / "site" / "api" / "reference" / "index.html").read_text()
    assert not (REPO / "site").exists(), "the build must not write into the repository"


class _TaggedLoader(yaml.SafeLoader):
    """mkdocs.yml uses mkdocs' own tags (`!relative`): read them as plain values."""


_TaggedLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def test_strict_build_fails_on_a_broken_link_or_anchor(tmp_path: Path) -> None:
    """The repository's own validation settings, on a two-page site with one broken link each way."""
    config = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=_TaggedLoader)  # noqa: S506 (a safe loader)
    minimal = {key: config[key] for key in ("site_name", "strict", "validation")}
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\n[concepts](concepts.md#units)\n")
    (tmp_path / "docs" / "concepts.md").write_text("# Concepts\n\n## Units\n")
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(minimal))
    assert build(tmp_path / "mkdocs.yml", tmp_path / "site").returncode == 0

    for broken in ("[gone](missing.md)", "[gone](concepts.md#no-such-heading)"):
        (tmp_path / "docs" / "index.md").write_text(f"# Home\n\n{broken}\n")
        result = build(tmp_path / "mkdocs.yml", tmp_path / "site")
        assert result.returncode != 0 and "Aborted" in result.stdout + result.stderr, broken
