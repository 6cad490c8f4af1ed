"""A model in the user's own file: `mynet:build` from its folder, `./mynet.py:build`,
`path/to/mynet.py:build`, `/abs/mynet.py:build`; every mistake one line naming the file and the fix."""
from __future__ import annotations

import sys
import textwrap

import pytest
from torch import nn
from typer.testing import CliRunner

from intensity.cli import app
from intensity.models import resolve_model

MYNET = """
    from torch import nn

    def build():
        return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())

    def needs_width(width):
        return nn.Linear(width, width)

    def raises():
        raise RuntimeError("no weights here")

    def not_a_module():
        return 3
"""


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh folder as the current directory, which is NOT on sys.path (as under the `intensity`
    script); module names the tests create are forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if str(tmp_path) in str(getattr(sys.modules[name], "__file__", None)):
            del sys.modules[name]


def _is_build(resolved):
    assert isinstance(resolved.module[0], nn.Conv2d) and resolved.module[0].out_channels == 8


@pytest.mark.parametrize("spec", ["mynet:build", "./mynet.py:build", "mynet.py:build"])
def test_a_file_in_the_current_directory(workdir, spec):
    _write(workdir / "mynet.py", MYNET)
    _is_build(resolve_model(spec, meta=True))
    assert str(workdir) not in sys.path  # the folder is importable only while loading and building


def test_relative_and_absolute_paths(workdir):
    path = _write(workdir / "models" / "deep" / "mynet.py", MYNET)
    _is_build(resolve_model("models/deep/mynet.py:build"))
    _is_build(resolve_model(f"{path}:build"))


def test_a_file_importing_its_neighbour_by_name(workdir):
    _write(workdir / "nets" / "blocks.py", "from torch import nn\nWIDTH = 8\n")
    _write(workdir / "nets" / "mynet.py", """
        from torch import nn
        from blocks import WIDTH

        def build():
            return nn.Sequential(nn.Conv2d(3, WIDTH, 3))
    """)
    _is_build(resolve_model("nets/mynet.py:build"))


def test_a_file_in_a_package_keeps_its_relative_imports(workdir):
    _write(workdir / "pkg" / "__init__.py", "")
    _write(workdir / "pkg" / "blocks.py", "WIDTH = 8\n")
    _write(workdir / "pkg" / "mynet.py", """
        from torch import nn
        from .blocks import WIDTH

        def build():
            return nn.Sequential(nn.Conv2d(3, WIDTH, 3))
    """)
    _is_build(resolve_model("pkg/mynet.py:build"))
    _is_build(resolve_model("pkg.mynet:build"))


def test_a_file_named_like_an_installed_module_is_still_the_users(workdir):
    _write(workdir / "copy.py", MYNET)  # `copy` is the standard library's
    _is_build(resolve_model("copy.py:build"))
    import copy

    assert hasattr(copy, "deepcopy")  # and the standard library's module is left alone


RELATIVE = "from .blocks import WIDTH\n"
SYNTAX = "def build(:\n    pass\n"
EXITS = "import sys\nsys.exit(2)\n"
MISSING_DEPENDENCY = "import no_such_dependency_xyz\n"
RAISES_AT_IMPORT = "WIDTH = 1 / 0\n"


@pytest.mark.parametrize(("text", "spec", "fragments"), [
    (RELATIVE, "mynet.py:build", ["mynet.py uses a relative import", "add __init__.py"]),
    (RELATIVE, "mynet:build", ["mynet.py uses a relative import", "import by name"]),
    (SYNTAX, "mynet.py:build", ["mynet.py has a syntax error at", "mynet.py:1", "py_compile"]),
    (EXITS, "mynet.py:build", ["mynet.py exited while being imported", "__main__"]),
    (MISSING_DEPENDENCY, "mynet.py:build", ["imports 'no_such_dependency_xyz'", "install it"]),
    (RAISES_AT_IMPORT, "mynet.py:build", ["raised ZeroDivisionError while being imported", "fix the file"]),
    (MYNET, "mynet.py:missing", ["mynet.py has no attribute 'missing'", "it defines build, needs_width"]),
    (MYNET, "mynet.py:raises", ["raises() raised RuntimeError: no weights here", "mynet.py", "fix the callable"]),
    (MYNET, "mynet.py:not_a_module", ["returned int, not a torch.nn.Module", "mynet.py", "return the model"]),
    (MYNET, "mynet.py:needs_width", ["needs arguments (width)"]),
    (MYNET, "mynet.py", ["names a file but not the function", "mynet.py:build"]),
    (MYNET, "elsewhere/mynet.py:build", ["elsewhere/mynet.py does not exist", "check the path"]),
    (MYNET, "nothere:build", ["cannot import 'nothere'", "path/to/nothere.py:build"]),
])
def test_mistakes_are_one_value_error_naming_the_file_and_the_fix(workdir, text, spec, fragments):
    _write(workdir / "mynet.py", text)
    with pytest.raises(ValueError) as caught:
        resolve_model(spec)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_a_directory_is_not_a_model_file(workdir):
    (workdir / "dir.py").mkdir()
    with pytest.raises(ValueError, match="dir.py is a directory; give a Python file"):
        resolve_model("dir.py:build")


def test_a_model_name_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="`model` must be a model name"):
        resolve_model(None)


def test_the_cli_analyzes_a_model_file_from_its_folder(workdir):
    _write(workdir / "mynet.py", MYNET)
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", "mynet:build", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"flops"' in result.stdout
    broken = runner.invoke(app, ["analyze", "./mynet.py:raises"])
    assert broken.exit_code == 2 and "Traceback" not in broken.output
    assert broken.stderr.strip().startswith("error: ./mynet.py:raises() raised RuntimeError")


def test_out_never_overwrites_the_module_a_model_is_read_from(workdir):
    _write(workdir / "mynet.py", MYNET)
    before = (workdir / "mynet.py").read_bytes()
    result = CliRunner().invoke(app, ["analyze", "mynet:build", "--input", "3x8x8", "--out", "mynet.py"])
    assert result.exit_code == 2 and "is an input of this command" in result.stderr
    assert (workdir / "mynet.py").read_bytes() == before


def test_a_builder_calling_sys_exit_is_an_error_not_a_silent_exit(workdir):
    _write(workdir / "mynet.py", "import sys\n\ndef build():\n    sys.exit(3)\n")
    with pytest.raises(ValueError, match=r"mynet:build\(\) exited \(SystemExit 3\)"):
        resolve_model("mynet:build")
