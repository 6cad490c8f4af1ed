"""Folding models with structured outputs, and what folding refuses before building anything."""
import pytest
import torch
from torch import nn

from intensity import analyze
from intensity.errors import TooLargeError
from intensity.transforms.folding import fold, unfold_outputs


class OneHead(nn.Module):
    """One output layer, returned as a dict, a tuple or a list."""

    def __init__(self, wrap: str) -> None:
        super().__init__()
        self.wrap, self.conv, self.head = wrap, nn.Conv2d(3, 4, 3), nn.Linear(4, 10)

    def forward(self, x: torch.Tensor):  # noqa: ANN201
        logits = self.head(self.conv(x).mean((2, 3)))
        return {"dict": {"logits": logits}, "tuple": (logits,), "list": [logits]}[self.wrap]


class TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.classes, self.boxes = nn.Conv2d(3, 4, 3), nn.Linear(4, 10), nn.Linear(4, 2)

    def forward(self, x: torch.Tensor):  # noqa: ANN201
        h = self.conv(x).mean((2, 3))
        return self.classes(h), self.boxes(h)


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 3), nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.a(x) + self.b(y)


@pytest.mark.parametrize("wrap", ["dict", "tuple", "list"])
def test_folded_model_unfolds_every_output_keeping_its_structure(wrap):
    result = fold(OneHead(wrap), 4, (3, 8, 8))
    folded = result.model(torch.randn(2, 12, 8, 8))  # 2 groups of 4 images: 4 x 10 logits each
    leaf = folded["logits"] if wrap == "dict" else folded[0]
    assert leaf.shape == (2, 40)
    out = result.wrapped()(torch.randn(7, 3, 8, 8))  # 7 images: a padded last group, dropped
    assert type(out) is type(folded)
    logits = out["logits"] if wrap == "dict" else out[0]
    assert logits.shape == (7, 10)


def test_wrapped_outputs_match_running_the_folded_model_by_hand():
    result = fold(OneHead("dict"), 2, (3, 8, 8))
    images = torch.randn(4, 3, 8, 8)
    by_hand = result.model(images.reshape(2, 6, 8, 8))["logits"].reshape(4, 10)  # image j: logits [10j, 10j+10)
    assert torch.allclose(result.wrapped()(images)["logits"], by_hand)


def test_dict_output_fold_is_analysed():
    result = fold(OneHead("dict"), 4, (3, 8, 8))
    report = analyze(result.model, batch=2, input_shape=result.folded_input_shape)
    assert report.totals.flops > 0 and {k.op for k in report.kernels} >= {"conv", "linear"}


def test_a_second_head_is_refused_not_unfolded_wrongly():
    # only the last linear (boxes) becomes f x K: classes would be split into wrong shares
    with pytest.raises(ValueError, match="output 0 of the model has 10 features but 20 after folding"):
        fold(TwoHeads(), 4, (3, 8, 8))


def test_several_inputs_are_refused_by_name():
    with pytest.raises(ValueError, match=r"takes 2 inputs \(x, y\)"):
        fold(TwoInputs(), 2, (3, 8, 8))


def test_a_fold_that_cannot_fit_is_refused_before_allocating():
    model = nn.Sequential(nn.Conv2d(3, 64, 3), nn.Conv2d(64, 64, 3))  # 38,720 parameters
    with pytest.raises(TooLargeError, match=r"f = 1000000000 x 38,720 parameters, fp32\) would need about "
                                            r"155 TB"):  # 38,720 x 1e9 x 4 bytes = 1.55e14
        fold(model, 10**9, (3, 16, 16))
