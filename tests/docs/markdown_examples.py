"""Extract the command examples of the README and docs/ pages, and run them as written.

The convention (docs/architecture.md, "Examples that run", says the same for authors):

- ```console blocks: each line starting with `$ ` is a command (a trailing `\\` continues it on
  the next line); the lines after it, up to the next `$ `, are its output, shown to the reader
  and not compared (formats change; the exit status is what is checked). An output whose first
  line starts with `error:` marks an example of a refused input: it must exit with status 2 and
  print `error:`; every other command must exit 0.
- ```bash blocks: every line is a command (`#` comments and `\\` continuations allowed).
- ```python blocks: run as a script.
- Any other fence (```text, ```toml, ```csv, no language) is never run.
- An HTML comment on the line before a fence changes how it is run (it is invisible on the site):
  `<!-- example: skip REASON -->` never runs it (the reason is required and the test lists it),
  `<!-- example: slow -->` runs it only in the slow suite (`make test-all`),
  `<!-- example: file PATH -->` writes the block's text to PATH in the page's scratch directory,
  for the examples after it (a spec .toml, an accuracy table shown on the page).
- The examples of one page run in order in one scratch directory that holds a copy of the
  repository's `examples/` folder, with HOME (config, caches) inside it and no INTENSITY_*
  variables set, so a later example may use what an earlier one wrote and nothing of the
  user's machine leaks in. A later example must not depend on a slow or skipped one.
- The default suite runs plain `[NAME=VALUE ...] intensity ...` lines in the test process (see
  test_examples.py); the slow suite runs every line with bash, exactly as written.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUN_LANGUAGES = ("console", "bash", "python")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)[^`]*$")
MARK = re.compile(r"^\s*<!--\s*example:\s*(?P<kind>skip|slow|file)\b\s*(?P<arg>.*?)\s*-->\s*$")
SHELL_SYNTAX = re.compile(r"[|&;<>$`*?(){}\[\]~]")  # anything that needs a shell, after quotes are removed
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=\S*")
TIMEOUT_S = 900


@dataclass
class Command:
    line: int          # 1-based line of the page where the command starts
    text: str          # as written, continuations joined
    expect_error: bool = False

    @property
    def expected_status(self) -> int:
        return 2 if self.expect_error else 0


@dataclass
class Block:
    page: str
    line: int          # 1-based line of the opening fence
    lang: str
    body: str
    marks: dict[str, str] = field(default_factory=dict)
    commands: list[Command] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def runs(self) -> bool:
        return "skip" not in self.marks and (self.lang in RUN_LANGUAGES or "file" in self.marks)


def pages() -> list[Path]:
    """README.md and every page of the docs site."""
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def parse(text: str, page: str) -> list[Block]:
    """Every fenced block of a markdown page, with its marks and (for shells) its commands."""
    blocks, lines, marks, index = [], text.splitlines(), {}, 0
    while index < len(lines):
        mark, fence = MARK.match(lines[index]), FENCE.match(lines[index])
        if mark:
            marks[mark["kind"]] = mark["arg"]
        elif fence:
            index, block = _read_block(lines, index, fence, page, marks)
            blocks.append(block)
            marks = {}
        elif lines[index].strip():
            marks = {}  # a mark applies only to the fence right after it
        index += 1
    return blocks


def _read_block(lines: list[str], start: int, fence: re.Match, page: str, marks: dict) -> tuple[int, Block]:
    indent, closing, body = len(fence["indent"]), fence["fence"], []
    index = start + 1
    while index < len(lines) and lines[index].strip() != closing:
        line = lines[index]
        body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
        index += 1
    if index == len(lines):
        raise ValueError(f"{page}:{start + 1}: the fence {closing} is never closed")
    block = Block(page, start + 1, fence["lang"].lower(), "\n".join(body) + "\n", dict(marks))
    block.commands = _commands(block, start + 2)
    return index, block


def _commands(block: Block, first_line: int) -> list[Command]:
    if block.lang == "console":
        return _console_commands(block.body.splitlines(), first_line)
    if block.lang == "bash":
        return _bash_commands(block.body.splitlines(), first_line)
    return []


def _console_commands(lines: list[str], first_line: int) -> list[Command]:
    commands: list[Command] = []
    index = 0
    while index < len(lines):
        if lines[index].startswith("$ "):
            start, text, index = index, lines[index][2:], index + 1
            while text.rstrip().endswith("\\") and index < len(lines):
                text, index = text.rstrip()[:-1].rstrip() + " " + lines[index].strip(), index + 1
            output = [line for line in lines[index:] if line.strip()][:1]
            # the first output line only belongs to this command when no other command follows first
            error = bool(output) and not output[0].startswith("$ ") and output[0].startswith("error:")
            commands.append(Command(first_line + start, text.strip(), error))
        else:
            index += 1
    return commands


def _bash_commands(lines: list[str], first_line: int) -> list[Command]:
    commands, text, start = [], "", 0
    for offset, line in enumerate(lines):
        if not text:
            start = offset
        text += line.strip() if text else line
        if text.rstrip().endswith("\\"):
            text = text.rstrip()[:-1].rstrip() + " "
            continue
        if text.strip() and not text.strip().startswith("#"):
            commands.append(Command(first_line + start, text.strip()))
        text = ""
    return commands


def in_process_args(command: str) -> tuple[dict[str, str], list[str]] | None:
    """(environment assignments, argv) of a plain `[NAME=VALUE ...] intensity ...` line, or None
    when it needs a shell (variables, pipes, redirections, globs, another program)."""
    unquoted = re.sub(r"'[^']*'|\"[^\"]*\"", "", command.split(" #")[0])
    if SHELL_SYNTAX.search(unquoted):
        return None
    words = shlex.split(command, comments=True)
    env = {}
    while words and ASSIGNMENT.fullmatch(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return (env, words[1:]) if words and words[0] == "intensity" else None


def scratch(directory: Path) -> Path:
    """A page's scratch directory: a copy of examples/ and a private HOME."""
    shutil.copytree(REPO / "examples", directory / "examples")
    (directory / "home").mkdir()
    return directory


def environment(directory: Path) -> dict[str, str]:
    """The environment examples run in: the venv's `intensity` first on PATH, this tree's code."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTENSITY_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    env.update(HOME=str(directory / "home"), XDG_CACHE_HOME=str(directory / "home" / ".cache"),
               XDG_CONFIG_HOME=str(directory / "home" / ".config"), COLUMNS="160")
    return env


def run_in_shell(command: Command, directory: Path, where: str) -> None:
    """Run one command as written, with bash, and check its exit status."""
    result = subprocess.run(["bash", "-c", command.text], cwd=directory, env=environment(directory),
                            capture_output=True, text=True, timeout=TIMEOUT_S)
    check(command, result.returncode, result.stdout + result.stderr, where)


def run_python(block: Block, directory: Path) -> None:
    result = subprocess.run([sys.executable, "-c", block.body], cwd=directory, env=environment(directory),
                            capture_output=True, text=True, timeout=TIMEOUT_S)
    if result.returncode != 0:
        raise AssertionError(f"{block.where}: the python example failed (exit {result.returncode}):\n"
                             f"{_tail(result.stdout + result.stderr)}")


def check(command: Command, status: int, output: str, where: str) -> None:
    if "Traceback (most recent call last)" in output or "internal error" in output:
        raise AssertionError(f"{where}: `{command.text}` crashed:\n{_tail(output)}")
    if status != command.expected_status:
        raise AssertionError(f"{where}: `{command.text}` exited {status}, expected "
                             f"{command.expected_status}:\n{_tail(output)}")
    if command.expect_error and "error:" not in output:
        raise AssertionError(f"{where}: `{command.text}` was shown refused but printed no `error:` line")


def write_file(block: Block, directory: Path) -> None:
    target = directory / block.marks["file"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(block.body)


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])
