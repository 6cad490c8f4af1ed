from typer.testing import CliRunner

from intensity.cli import app
from intensity.output import locked

runner = CliRunner()


def _train(tmp_path):
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", "game-lol-gold1", "--data", "generated:game-lol-gold1", "-f", "2",
                                 "--epochs", "1", "--batch", "8", "--per-class", "2", "--out", str(run)])
    assert result.exit_code == 0, result.output
    return run


def test_export_command(tmp_path):
    run = _train(tmp_path)
    result = runner.invoke(app, ["export", str(run), "--format", "pt", "--out", str(tmp_path / "m.pt2")])
    assert result.exit_code == 0, result.output
    assert "batch_norms_folded" in result.output and (tmp_path / "m.pt2").stat().st_size > 0
    with locked(run, "run directory"):
        busy = runner.invoke(app, ["export", str(run), "--out", str(tmp_path / "m.onnx")])
    assert busy.exit_code == 2 and "still training" in busy.output and not (tmp_path / "m.onnx").exists()


def test_export_bad_input(tmp_path):
    missing = runner.invoke(app, ["export", str(tmp_path / "nothing"), "--out", str(tmp_path / "m.onnx")])
    assert missing.exit_code == 2 and "error:" in missing.output and "Traceback" not in missing.output


def test_train_refuses_a_curriculum_that_cannot_finish(tmp_path):
    # the README's torchrun example: 10 epochs with the seed's E = 60
    result = runner.invoke(app, ["train", "game-lol-gold1", "--data", "generated:game-lol-gold1", "-f", "2",
                                 "--epochs", "10", "--preset", "seed", "--per-class", "2", "--out",
                                 str(tmp_path / "r")])
    assert result.exit_code == 2 and "--every" in result.output and "--epochs" in result.output


def test_export_of_a_file_that_is_not_a_checkpoint_is_one_line(tmp_path):
    text = tmp_path / "metrics.csv"
    text.write_text("epoch,loss\n1,2.5\n")  # torch.load raises IndexError on text
    result = runner.invoke(app, ["export", str(text), "--out", str(tmp_path / "m.onnx")])
    assert result.exit_code == 2 and "is corrupt or not an intensity checkpoint" in result.stderr
    assert "internal error" not in result.output and not (tmp_path / "m.onnx").exists()
