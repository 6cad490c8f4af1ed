"""The example runner itself: what it extracts from markdown and that a failing example fails."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs import markdown_examples as md

PAGE = """# A page

```console
$ intensity analyze noscope-coral \\
    --batch 8
table output
$ intensity analyze noscope-corl
error: unknown model 'noscope-corl'
```

<!-- example: slow -->
```bash
# a comment
intensity devices   # trailing comment
echo one && \\
  echo two
```

<!-- example: skip needs a GPU -->
```console
$ intensity measure x --on cuda
```

<!-- example: file spec.toml -->
```toml
key = "mine"
```

```text
not run
```

- In a list:

    ```console
    $ intensity devices
    ```
"""


def test_console_commands_continuations_and_refusals():
    blocks = md.parse(PAGE, "page.md")
    first = blocks[0]
    assert [c.text for c in first.commands] == ["intensity analyze noscope-coral --batch 8",
                                                "intensity analyze noscope-corl"]
    assert [c.expected_status for c in first.commands] == [0, 2]
    assert [c.line for c in first.commands] == [4, 7]


def test_bash_lines_marks_and_languages():
    blocks = md.parse(PAGE, "page.md")
    bash, skipped, spec, text, indented = blocks[1:]
    assert [c.text for c in bash.commands] == ["intensity devices   # trailing comment", "echo one && echo two"]
    assert bash.marks == {"slow": ""} and bash.runs
    assert skipped.marks == {"skip": "needs a GPU"} and not skipped.runs
    assert spec.marks == {"file": "spec.toml"} and spec.runs and spec.body == 'key = "mine"\n'
    assert not text.runs and text.marks == {}
    assert [c.text for c in indented.commands] == ["intensity devices"]


def test_a_fence_left_open_is_an_error():
    with pytest.raises(ValueError, match="never closed"):
        md.parse("```console\n$ intensity devices\n", "page.md")


@pytest.mark.parametrize(("command", "parsed"), [
    ("intensity analyze noscope-coral -b 8", ({}, ["analyze", "noscope-coral", "-b", "8"])),
    ("intensity list-models 'noscope-*'", ({}, ["list-models", "noscope-*"])),
    ("intensity devices   # all of them", ({}, ["devices"])),
    ("PYTHONPATH=examples intensity analyze mynet:build", ({"PYTHONPATH": "examples"}, ["analyze", "mynet:build"])),
    ("intensity devices --format csv | head -2", None),
    ("X=$HOME intensity devices", None),
    ("python benchmarks/x.py", None),
])
def test_only_plain_intensity_lines_run_in_process(command, parsed):
    assert md.in_process_args(command) == parsed


def test_a_failing_or_crashing_example_fails(tmp_path: Path):
    with pytest.raises(AssertionError, match="exited 1, expected 0"):
        md.run_in_shell(md.Command(3, "echo out; exit 1"), tmp_path, "page.md:3")
    with pytest.raises(AssertionError, match="exited 0, expected 2"):
        md.check(md.Command(3, "intensity x", expect_error=True), 0, "fine", "page.md:3")
    with pytest.raises(AssertionError, match="crashed"):
        md.check(md.Command(3, "intensity x"), 0, "Traceback (most recent call last):\n", "page.md:3")
    md.run_in_shell(md.Command(3, "test -n \"$HOME\" && test -z \"$INTENSITY_DTYPE\""), tmp_path, "page.md:3")
