import pytest

from intensity.train.curriculum import Curriculum
from intensity.train.loop import TrainConfig, check_config, train
from intensity.train.recipe import RECIPES, lr_factor, recipe_for, resolve


def test_seed_preset_resolves_by_family():
    assert recipe_for("seed", "noscope-coral") is RECIPES["noscope"]
    seed = recipe_for("seed", "game-lol-gold1")
    assert (seed.optimizer, seed.lr, seed.weight_decay, seed.batch_norm, seed.curriculum, seed.every) == \
        ("adam", 1e-4, 1e-5, False, True, 60)


def test_overrides_and_old_checkpoints():
    config = TrainConfig("game-lol-gold1", "generated:game-lol-gold1", "x", lr=0.5, batch_norm=False)
    recipe = resolve(config)
    assert (recipe.lr, recipe.batch_norm, recipe.init) == (0.5, False, "separate")  # fast, two overridden
    old = {"model": "game-lol-gold1", "preset": "game", "lr": None, "every": 60}  # written before recipes
    assert resolve(old) == RECIPES["game"]


def test_lr_schedule():
    fast = RECIPES["fast"]  # warm-up over 5% of the run, then cosine to 0
    assert lr_factor(fast, 0.0) == pytest.approx(1e-3 / 0.051)
    assert lr_factor(fast, 0.05) == pytest.approx(1.0)
    assert lr_factor(fast, 0.525) == pytest.approx(0.5)  # halfway through the decay: cos(pi/2)
    assert lr_factor(fast, 1.0) == pytest.approx(0.0, abs=1e-9)
    assert lr_factor(RECIPES["game"], 0.7) == 1.0


def test_curriculum_that_cannot_finish_is_refused(tmp_path):
    # the README's torchrun example: 10 epochs, E = 60: V1 f = 2 starts with 2 of 11 classes
    with pytest.raises(ValueError, match=r"reaches only 2 of 11 classes.*--every.*--epochs"):
        Curriculum.seed_default(11, 2, every=60).check_reaches_all(10)
    Curriculum.seed_default(11, 2, every=1).check_reaches_all(10)  # 2 + 9 = 11 at the last epoch
    with pytest.raises(ValueError, match="--every"):
        train(TrainConfig("game-lol-gold1", "generated:game-lol-gold1", str(tmp_path / "r"), f=2, epochs=10, per_class=2,
                          preset="seed"))


def test_scaled_curriculum_reaches_all_classes():
    fast_with_curriculum = RECIPES["fast"].__class__(**{**RECIPES["fast"].__dict__, "curriculum": True})
    every = fast_with_curriculum.every_for(100)  # 4% of 100 epochs
    assert every == 4
    Curriculum.seed_default(27, 4, every=every).check_reaches_all(100)  # V4: 4 + 2 * 12 = 28 >= 27 by epoch 48


@pytest.mark.parametrize("field,value,match", [("preset", "fastest", "--preset"), ("optimizer", "lion", "--optimizer"),
                                                ("warmup", 1.5, "--warmup"), ("label_smoothing", -0.1, "--label-smoothing"),
                                                ("init", "orthogonal", "--init")])
def test_bad_recipe_options(field, value, match):
    config = TrainConfig("game-lol-gold1", "generated:game-lol-gold1", "x", **{field: value})
    with pytest.raises(ValueError, match=match):
        check_config(config)
