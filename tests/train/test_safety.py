"""Training safety: divergence stops with an error keeping the last good checkpoint; a resume
applies or refuses changed settings (never ignores them) and says when there is nothing to train."""
import pytest
import torch

from intensity.train.checkpoint import load_checkpoint
from intensity.train.loop import TrainConfig, train
from intensity.train.safety import DivergedError, check_loss, check_weights

DATA = "generated:game-lol-gold1"


def _config(tmp_path, name="run", **kw):
    base = dict(model="game-lol-gold1", data=DATA, out=str(tmp_path / name), f=1, epochs=1, batch=16,
                per_class=2, lr=1e-3, schedule="constant", warmup=0.0)  # the lr stays as set
    return TrainConfig(**{**base, **kw})


def test_a_non_finite_loss_stops_with_the_epochs_kept():
    with pytest.raises(DivergedError, match=r"loss became nan in epoch 3 .*last.pt keeps epoch 2"):
        check_loss(torch.tensor(float("nan")), 2, 1e6, "run")
    with pytest.raises(DivergedError, match="no checkpoint was written"):
        check_loss(torch.tensor(float("inf")), 0, None, "run")
    check_loss(torch.tensor(2.5), 0, 1e-3, "run")  # a finite loss passes


def test_non_finite_weights_are_never_checkpointed():
    layer = torch.nn.Linear(2, 2)
    check_weights(layer, 0)
    with torch.no_grad():
        layer.bias[0] = float("inf")
    with pytest.raises(DivergedError, match="1 parameter tensors \\(first bias\\)"):
        check_weights(layer, 0)


def test_divergence_keeps_the_last_good_checkpoint(tmp_path):
    train(_config(tmp_path))
    good = load_checkpoint(tmp_path / "run" / "last.pt")
    with pytest.raises(DivergedError, match="keeps epoch 1"):
        train(_config(tmp_path, epochs=3, lr=1e30, resume=True))  # Adam at 1e30: nan at once
    kept = load_checkpoint(tmp_path / "run" / "last.pt")
    assert kept["epoch"] == 0 and all(torch.equal(kept["model"][k], good["model"][k]) for k in good["model"])


def test_resume_applies_a_new_lr_and_more_epochs_and_says_so(tmp_path):
    train(_config(tmp_path))
    result = train(_config(tmp_path, epochs=2, lr=5e-4, resume=True))
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert state["optimizer"]["param_groups"][0]["lr"] == 5e-4
    assert result.trained == 1 and [m["epoch"] for m in result.metrics] == [1, 2]
    assert any("epochs 2-2" in n for n in result.notes)
    assert any("`lr` changed on resume: 0.001 -> 0.0005" in n for n in result.notes)


def test_resume_takes_left_out_settings_from_the_checkpoint(tmp_path):
    train(_config(tmp_path, batch=8))
    result = train(_config(tmp_path, epochs=2, batch=32, lr=None, resume=True))  # 32 and None: defaults
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert state["config"]["batch"] == 8 and state["optimizer"]["param_groups"][0]["lr"] == 1e-3
    assert result.trained == 1


def test_resume_refuses_a_setting_it_cannot_change(tmp_path):
    train(_config(tmp_path))
    with pytest.raises(ValueError, match="`batch` was 16 in the run in .*, now 64"):
        train(_config(tmp_path, epochs=2, batch=64, resume=True))
    with pytest.raises(ValueError, match="`seed` was 0"):
        train(_config(tmp_path, epochs=2, seed=5, resume=True))


def test_resume_with_nothing_left_to_train_trains_nothing_and_says_so(tmp_path):
    train(_config(tmp_path, epochs=2))
    before = load_checkpoint(tmp_path / "run" / "last.pt")
    metrics = (tmp_path / "run" / "metrics.csv").read_text()
    for epochs in (1, 2):
        result = train(_config(tmp_path, epochs=epochs, resume=True))
        assert result.trained == 0 and [m["epoch"] for m in result.metrics] == [1, 2]
        assert any(f"nothing to train: the run in {tmp_path / 'run'} has trained 2 epochs and `epochs` is "
                   f"{epochs}" in n for n in result.notes)
    after = load_checkpoint(tmp_path / "run" / "last.pt")
    assert after["epoch"] == 1 and all(torch.equal(after["model"][k], before["model"][k]) for k in before["model"])
    assert (tmp_path / "run" / "metrics.csv").read_text() == metrics


def test_the_default_config_passes_the_type_checks_and_every_is_still_checked():
    from intensity.train.safety import check_setting_types
    check_setting_types(TrainConfig(model="noscope-coral", data="d", out="o"))  # every None: the preset's
    with pytest.raises(ValueError, match="`every`"):
        check_setting_types(TrainConfig(model="noscope-coral", data="d", out="o", every=0))


def test_resume_refusing_a_recipe_option_left_to_the_preset_says_to_leave_it_out(tmp_path):
    train(_config(tmp_path, optimizer=None))
    with pytest.raises(ValueError, match="`optimizer` was left to the preset .* resume without `optimizer`"):
        train(_config(tmp_path, epochs=2, optimizer="sgd", resume=True))
