import numpy as np
import pytest
import torch

from intensity.output import locked
from intensity.train.export import export_run, load_trained, onnx_session
from intensity.train.loop import TrainConfig, train


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny trained runs (fast preset: batch norms, block-diagonal init) of V1 at f = 1, 2, 4."""
    root = tmp_path_factory.mktemp("runs")
    torch.set_num_threads(1)
    out = {}
    for f in (1, 2, 4):
        config = TrainConfig("game-lol-gold1", "generated:game-lol-gold1", str(root / f"f{f}"), f=f, epochs=1,
                             batch=8, per_class=2)
        train(config)
        out[f] = root / f"f{f}"
    return out


def _trained_logits(run, images):
    state, model = load_trained(run)
    norm = state["normalize"]
    x = (images - torch.tensor(norm["mean"]).view(1, -1, 1, 1)) / torch.tensor(norm["std"]).view(1, -1, 1, 1)
    f = state["f"]
    padded = torch.cat([x, x.new_zeros((-len(x)) % f, *x.shape[1:])])
    with torch.no_grad():
        y = model(padded.reshape(-1, f * x.shape[1], *x.shape[2:]))
    return y.reshape(-1, y.shape[1] // f)[: len(x)].numpy()


@pytest.mark.parametrize("f", [1, 2, 4])
def test_onnx_runtime_equals_pytorch(runs, tmp_path, f):
    result = export_run(runs[f], "onnx", tmp_path / "m.onnx")
    assert result.batch_norms_folded == 5 and result.max_abs_diff < 1e-4  # 4 convs + ... of V1: see below
    session = onnx_session((tmp_path / "m.onnx").read_bytes())
    images = torch.rand(2 * f + 1, 3, 22, 52)  # a partial last group when f > 1
    out = session.run(None, {"images": images.numpy()})[0]
    assert out.shape == (2 * f + 1, 11)
    assert np.allclose(out, _trained_logits(runs[f], images), atol=1e-4)


@pytest.mark.parametrize("f", [1, 4])
def test_torch_export_program(runs, tmp_path, f):
    export_run(runs[f], "pt", tmp_path / "m.pt2")
    program = torch.export.load(tmp_path / "m.pt2").module()
    images = torch.rand(5, 3, 22, 52)
    assert np.allclose(program(images).detach().numpy(), _trained_logits(runs[f], images), atol=1e-4)


def test_run_still_training_is_refused_and_nothing_written(runs, tmp_path):
    out = tmp_path / "m.onnx"
    out.write_text("old")
    with locked(runs[2], "run directory"), pytest.raises(ValueError, match="still training"):
        export_run(runs[2], "onnx", out)
    assert out.read_text() == "old"


def test_corrupt_run_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "last.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt"):
        export_run(tmp_path / "run", "pt", tmp_path / "m.pt2")
    assert not (tmp_path / "m.pt2").exists()
    with pytest.raises(ValueError, match="does not exist"):
        export_run(tmp_path / "nothing", "pt", tmp_path / "m.pt2")


def test_output_that_is_the_run_is_refused(runs):
    with pytest.raises(ValueError, match="input"):
        export_run(runs[1], "pt", runs[1] / "last.pt")


def test_unknown_format(runs, tmp_path):
    with pytest.raises(KeyError, match="onnx or pt"):
        export_run(runs[1], "tflite", tmp_path / "m")
