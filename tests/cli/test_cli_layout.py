"""cli/ holds declarations only (issue 16): no sqlite3, numpy or torch import, no hand-built rich
`Table(` (tables are report/tables.Grid), and choices come from the library's registries."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import intensity.cli
from intensity.cli import app

CLI = Path(intensity.cli.__file__).parent
FORBIDDEN = {
    "sqlite3 import": re.compile(r"^\s*(import sqlite3|from sqlite3 )", re.M),
    "numpy import": re.compile(r"^\s*(import numpy|from numpy[ .])", re.M),
    "torch import": re.compile(r"^\s*(import torch|from torch[ .])", re.M),
    "rich Table(": re.compile(r"\bTable\("),
}
# Modules still being converted to operations on another branch (remove each when it lands).
NOT_YET_CONVERTED = {"explore_commands.py", "fold_commands.py", "train_commands.py"}


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_cli_module_holds_declarations_only(path):
    if path.name in NOT_YET_CONVERTED:
        pytest.xfail("converted on the ops-b branch")
    text = path.read_text()
    found = [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert not found, f"{path.name}: {found}"


def test_the_check_catches_a_planted_violation():
    planted = "def f():\n    import torch\n    return Table(title='x')\n"
    assert {n for n, p in FORBIDDEN.items() if p.search(planted)} == {"torch import", "rich Table("}


def test_choices_and_their_help_come_from_the_registries():
    from intensity.cost.attention import ATTENTION_MODES
    from intensity.cost.fusion import FUSION_POLICIES

    text = CliRunner().invoke(app, ["analyze", "--help"], terminal_width=400).stdout
    flat = " ".join(text.split())
    for registry in (FUSION_POLICIES, ATTENTION_MODES):
        for name in registry:
            assert name in flat and registry.summary(name).split()[0] in flat
