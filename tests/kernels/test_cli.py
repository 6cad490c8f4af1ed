"""The fuse and fusion-grid commands."""
import json

from typer.testing import CliRunner

from intensity.cli import app

runner = CliRunner()


def test_fuse_check_prints_max_difference():
    result = runner.invoke(app, ["fuse", "convfirstnet-pico", "--check", "--input", "3x32x32", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["replaced"]) == 28 and data["unchanged"] == []
    assert data["input"] == [2, 3, 32, 32]
    assert data["max_abs_diff"] <= 1e-4 * max(1.0, data["max_abs_output"])


def test_fusion_grid_json_matches_seed_and_network_efficiency():
    result = runner.invoke(app, ["fusion-grid", "--block", "mbconv", "--device", "a5000-base", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    first = data["grid"][0]
    assert first["point"] == "128c4a16hw" and round(first["layer_latency_us"]) == first["seed_layer_us"] == 544
    # seed §6.2: 36% layer-wise and 97% fused; our reading of the blocks gives 33.7% and 96.3%
    assert round(data["network"]["layer_efficiency"], 3) == 0.337
    assert round(data["network"]["fused_efficiency"], 3) == 0.963


def test_fuse_bad_input_is_one_line():
    result = runner.invoke(app, ["fuse", "convfirstnet-pico", "--check", "--input", "3by5"])
    assert result.exit_code == 2 and "malformed input shape" in result.output


def test_fuse_check_on_too_small_input_is_one_line_model_error():
    # 3x4x4 shrinks to 1x1 before a reflect-padded layer: torch raises a RuntimeError in the model
    result = runner.invoke(app, ["fuse", "convfirstnet-pico", "--check", "--input", "3x4x4"])
    assert result.exit_code == 2, result.output
    assert "model raised on an input of shape (2, 3, 4, 4)" in result.output and "check --input" in result.output
    assert "internal error" not in result.output and len(result.output.strip().splitlines()) == 1


def test_fuse_model_without_supported_blocks_notes_nothing_was_fused():
    result = runner.invoke(app, ["fuse", "noscope-coral", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["replaced"] == []
    assert "note: no supported blocks (ConvFirst, MBConv" in result.stderr and "runs unchanged" in result.stderr


def test_fusion_grid_dtype_without_peak_names_its_own_flags():
    result = runner.invoke(app, ["fusion-grid", "--network", "", "--dtype", "int8", "--device", "v100"])
    assert result.exit_code == 2
    assert "v100 has no published int8 peak" in result.output
    assert "choose another --dtype or --device" in result.output and "peak-tflops" not in result.output


def test_fusion_grid_plot_on_a_file_names_plot(tmp_path):
    target = tmp_path / "taken.png"
    target.write_text("x")
    result = runner.invoke(app, ["fusion-grid", "--network", "", "--plot", str(target)])
    assert result.exit_code == 2
    assert f"--plot {target} is a file" in result.output and "--out" not in result.output
