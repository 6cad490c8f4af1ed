import torch
from torch import nn

from intensity.api import analyze
from intensity.transforms.bn_fold import deployable, fold_batch_norms, has_batch_norm, with_batch_norm
from intensity.transforms.folding import fold


def _conv_bn():
    conv = nn.Conv2d(1, 2, 1)
    norm = nn.BatchNorm2d(2)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([2.0, -1.0]).view(2, 1, 1, 1))
        conv.bias.copy_(torch.tensor([1.0, 0.0]))
        norm.running_mean.copy_(torch.tensor([3.0, 1.0]))
        norm.running_var.copy_(torch.tensor([4.0 - 1e-5, 1.0 - 1e-5]))  # sqrt(var + eps) = 2, 1
        norm.weight.copy_(torch.tensor([0.5, 2.0]))
        norm.bias.copy_(torch.tensor([1.0, -1.0]))
    return nn.Sequential(conv, norm)


def test_fold_exact_on_hand_made_weights():
    folded = fold_batch_norms(_conv_bn())
    conv = folded.get_submodule("0")
    # channel 0: w' = 2 * 0.5 / 2 = 0.5, b' = (1 - 3) * 0.5 / 2 + 1 = 0.5
    # channel 1: w' = -1 * 2 / 1 = -2, b' = (0 - 1) * 2 / 1 - 1 = -3
    assert torch.allclose(conv.weight.flatten(), torch.tensor([0.5, -2.0]))
    assert torch.allclose(conv.bias, torch.tensor([0.5, -3.0]))
    assert not has_batch_norm(folded)
    x = torch.randn(3, 1, 4, 4)
    assert torch.allclose(folded(x), _conv_bn().eval()(x), atol=1e-6)


def test_with_batch_norm_skips_the_output_layer_and_existing_norms():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4), nn.Flatten(),
                          nn.LazyLinear(8) if False else nn.Linear(4 * 6 * 6, 8), nn.ReLU(), nn.Linear(8, 2))
    trained = with_batch_norm(model)
    norms = [type(m).__name__ for m in trained.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert norms == ["BatchNorm2d", "BatchNorm2d", "BatchNorm1d"]  # conv 1 new, conv 2 its own, hidden FC new
    assert trained(torch.randn(2, 3, 10, 10)).shape == (2, 2)


def test_deployed_folded_model_has_the_seed_architecture_and_flops():
    from intensity.train.loop import build_model

    trained, shape, _ = build_model("game-lol-gold1", 4, "fast")
    trained.train()
    trained(torch.randn(8, 12, *shape[1:]))  # move the running statistics off their init
    shipped = deployable(trained)
    plain = fold("game-lol-gold1", 4).model
    assert not has_batch_norm(shipped)
    folded_shape = (12, *shape[1:])
    assert analyze(shipped, batch=8, input_shape=folded_shape).totals.flops == \
        analyze(plain, batch=8, input_shape=folded_shape).totals.flops
    assert [tuple(p.shape) for p in shipped.parameters()] == [tuple(p.shape) for p in plain.parameters()]
    x = torch.randn(5, *folded_shape)
    assert torch.allclose(shipped(x), trained.eval()(x), atol=1e-4)


def test_deployable_removes_dropout():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    shipped = deployable(model)
    assert not any(isinstance(m, nn.Dropout) for m in shipped.modules())
