"""Every command example of README.md and docs/*.md runs as written (convention: markdown_examples).

The default suite runs each page's examples in order in a scratch directory; plain `intensity ...`
lines run in this process through the Typer app (the same argv, about 2 s less each than a new
interpreter), everything else through bash. The slow suite runs every example, slow ones too,
exactly as a user would: `intensity` from the venv, in a shell.
"""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from tests.docs import markdown_examples as md

PAGES = md.pages()
IDS = [str(page.relative_to(md.REPO)) for page in PAGES]
MAX_SKIPS = 6  # examples that need a GPU, the network or a dataset we cannot ship: keep them few


def blocks_of(page: Path) -> list[md.Block]:
    return md.parse(page.read_text(), str(page.relative_to(md.REPO)))


def all_blocks() -> list[md.Block]:
    return [block for page in PAGES for block in blocks_of(page)]


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = md.scratch(tmp_path)
    for block in blocks_of(page):
        if block.runs and "slow" not in block.marks:
            run_block_fast(block, directory, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_examples_run_as_written(page: Path, tmp_path: Path) -> None:
    directory = md.scratch(tmp_path)
    for block in blocks_of(page):
        if not block.runs:
            continue
        if "file" in block.marks:
            md.write_file(block, directory)
        elif block.lang == "python":
            md.run_python(block, directory)
        for command in block.commands:
            md.run_in_shell(command, directory, f"{block.page}:{command.line}")


def run_block_fast(block: md.Block, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if "file" in block.marks:
        md.write_file(block, directory)
    elif block.lang == "python":
        with isolated(directory, monkeypatch):
            exec(compile(block.body, block.where, "exec"), {"__name__": "__main__"})  # noqa: S102
    for command in block.commands:
        where = f"{block.page}:{command.line}"
        parsed = md.in_process_args(command.text)
        if parsed is None:
            md.run_in_shell(command, directory, where)
        else:
            run_in_process(command, *parsed, directory, monkeypatch, where)


def run_in_process(command: md.Command, env: dict[str, str], args: list[str], directory: Path,
                   monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """The Typer app in this process; `NAME=VALUE` prefixes set the environment, and PYTHONPATH's
    entries go first on sys.path, as a new interpreter would put them."""
    from intensity.cli import app

    with isolated(directory, monkeypatch) as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        entries = env.get("PYTHONPATH", "").split(os.pathsep) if env.get("PYTHONPATH") else []
        sys.path[:0] = [str((directory / entry).resolve()) for entry in entries]
        result = CliRunner().invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{where}: `{command.text}` raised {result.exception!r}") from result.exception
    md.check(command, result.exit_code, result.output, where)


class isolated:  # noqa: N801 (used as a context manager, like monkeypatch.context)
    """The scratch directory as cwd and HOME, no INTENSITY_* variables; threads and warning hooks restored."""

    def __init__(self, directory: Path, monkeypatch: pytest.MonkeyPatch):
        self.directory, self.context = directory, monkeypatch.context()

    def __enter__(self) -> pytest.MonkeyPatch:
        self.threads, self.showwarning = torch.get_num_threads(), warnings.showwarning
        self.path, self.modules = list(sys.path), set(sys.modules)
        patch = self.context.__enter__()
        for key in [key for key in os.environ if key.startswith("INTENSITY_")]:
            patch.delenv(key)
        for key in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "COLUMNS"):
            patch.setenv(key, md.environment(self.directory)[key])
        patch.chdir(self.directory)
        return patch

    def __exit__(self, *exc: object) -> None:
        self.context.__exit__(*exc)
        torch.set_num_threads(self.threads)
        warnings.showwarning = self.showwarning
        sys.path[:] = self.path  # an example's sys.path.insert, and the modules it imported from the scratch dir
        for name in set(sys.modules) - self.modules:
            if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(self.directory)):
                del sys.modules[name]


def test_pages_have_examples_and_skips_are_few_with_reasons() -> None:
    blocks = all_blocks()
    skipped = [block for block in blocks if "skip" in block.marks]
    assert all(block.marks["skip"] for block in skipped), [b.where for b in skipped if not b.marks["skip"]]
    assert len(skipped) <= MAX_SKIPS, [f"{b.where}: {b.marks['skip']}" for b in skipped]
    assert sum(len(block.commands) for block in blocks) >= 40


def test_no_command_hides_outside_a_runnable_fence() -> None:
    """`$ ` lines belong in ```console blocks; elsewhere the runner would never see them."""
    hidden = [block.where for block in all_blocks()
              if block.lang not in md.RUN_LANGUAGES
              and any(line.startswith("$ ") for line in block.body.splitlines())]
    assert not hidden, f"`$ ` command lines outside a console block: {hidden}"


def test_readme_links_resolve() -> None:
    import re

    text = (md.REPO / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [target for target in targets if "://" not in target and not target.startswith("mailto:")]
    missing = [target for target in local if not (md.REPO / target).exists()]
    assert local and not missing, f"README links to missing files: {missing}"
    assert "shared/DESIGN.md" not in text
