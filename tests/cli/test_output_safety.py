"""Nothing a user owns is lost (issue 19): an --out that is an input is refused with the input's
bytes unchanged, symlinks are written through, device nodes and FIFOs are refused, and a failed
command creates no file."""
from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from intensity.cli import app

runner = CliRunner()
SPEC = 'key = "v100"\nname = "my card"\nbandwidth_gbs = 500\n[peak_tflops]\nfp16 = 50\nfp32 = 10\n'
ENERGY = "model,energy_efficiency,flops,weights,activations\na,1,10,2,3\nb,2,20,3,5\nc,3,30,4,8\nd,5,40,4,9\n"


def _refused(argv, path, fragment="is an input of this command"):
    before = path.read_bytes()
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == before


def test_out_onto_the_table_read_is_refused(tmp_path):
    table = tmp_path / "T.csv"
    table.write_text(ENERGY)
    _refused(["calibrate-di", str(table), "--out", str(table)], table)


def test_out_onto_the_device_spec_is_refused(tmp_path):
    spec = tmp_path / "mine.toml"
    spec.write_text(SPEC)
    _refused(["analyze", "noscope-coral", "--device", str(spec), "--out", str(spec)], spec)
    _refused(["roofline", "noscope-coral", "--device", str(spec), "--format", "json", "--out", str(spec)], spec)


def test_out_through_a_link_to_an_input_is_refused(tmp_path):
    table = tmp_path / "T.csv"
    table.write_text(ENERGY)
    (tmp_path / "link.csv").symlink_to(table)
    _refused(["calibrate-di", str(table), "--out", str(tmp_path / "link.csv")], table)


def test_out_writes_through_a_symlink_and_keeps_it(tmp_path):
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target)
    result = runner.invoke(app, ["devices", "--format", "json", "--out", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "devices" in json.loads(target.read_text())


@pytest.mark.parametrize("node", ["/dev/full", "/dev/null", "/dev/stdout", "/proc/self/fd/1"])
def test_device_nodes_are_refused(node):
    if not os.path.exists(node):
        pytest.skip(f"no {node} here")
    result = runner.invoke(app, ["devices", "--out", node])
    assert result.exit_code == 2 and "leave out --out to print to stdout" in result.stderr
    assert not os.path.isfile(node) or node.endswith(("stdout", "/1"))


def test_dev_stdout_redirected_to_a_file_is_still_refused(tmp_path):
    """/dev/stdout resolves to the shell's redirect target: writing it would replace that file."""
    redirected = tmp_path / "x.txt"
    redirected.write_text("mine")
    _refused(["devices", "--out", "/dev/stdout"], redirected, "leave out --out to print to stdout")


def test_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = runner.invoke(app, ["config", "--out", str(fifo)])
    assert result.exit_code == 2 and "not a regular file" in result.stderr


def test_a_failed_command_creates_no_file(tmp_path):
    out = tmp_path / "new.json"
    result = runner.invoke(app, ["analyze", "noscope-corl", "--format", "json", "--out", str(out)])
    assert result.exit_code == 2 and list(tmp_path.iterdir()) == []


def test_report_directory_that_is_an_input_is_refused(tmp_path):
    spec = tmp_path / "mine.toml"
    spec.write_text(SPEC)
    _refused(["report", "noscope-coral", "--device", str(spec), "--out", str(spec)], spec)


def test_fusion_grid_plot_must_be_a_directory(tmp_path):
    file = tmp_path / "f.txt"
    file.write_text("mine")
    _refused(["fusion-grid", "--plot", str(file)], file, "is a file")


def test_a_user_spec_named_like_a_bundled_one_is_not_labelled_as_it(tmp_path):
    spec = tmp_path / "mine.toml"
    spec.write_text(SPEC)
    result = runner.invoke(app, ["analyze", "noscope-coral", "--device", str(spec), "--format", "json"])
    device = json.loads(result.stdout)["device"]
    assert device["name"] == "v100 (mine.toml)" and device["op_byte"] == pytest.approx(50e12 / 500e9)
    table = runner.invoke(app, ["analyze", "noscope-coral", "--device", str(spec)])
    assert table.stdout.splitlines()[0].endswith("device v100 (mine.toml)")
