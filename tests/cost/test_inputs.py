"""Several inputs, non-float inputs and structured outputs: parsing, and counting them by hand."""
import pytest
import torch
from torch import nn

from intensity import analyze
from intensity.cost.inputs import InputSpec, parse_input, parse_inputs
from intensity.errors import ParameterError, ParameterTypeError


class TwoImages(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rgb, self.depth = nn.Conv2d(3, 8, 3), nn.Conv2d(1, 8, 3)

    def forward(self, rgb: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        return self.rgb(rgb) + self.depth(depth)


class Tokens(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed, self.head = nn.Embedding(100, 16), nn.Linear(16, 4)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(ids))


class Heads(nn.Module):
    """Returns a dict or a tuple of two heads."""

    def __init__(self, as_dict: bool) -> None:
        super().__init__()
        self.as_dict, self.conv = as_dict, nn.Conv2d(3, 4, 3)
        self.classes, self.boxes = nn.Linear(4, 10), nn.Linear(4, 2)

    def forward(self, x: torch.Tensor):  # noqa: ANN201
        h = self.conv(x).mean((2, 3))
        return {"classes": self.classes(h), "boxes": self.boxes(h)} if self.as_dict else (self.classes(h), self.boxes(h))


def test_parse_one_or_several_inputs_with_dtypes():
    assert parse_input("3x224x224") == InputSpec((3, 224, 224))
    assert parse_input(" 1x128:INT64 ") == InputSpec((1, 128), torch.int64)
    assert parse_input((3, 32, 32)).text() == "3x32x32" and parse_input("16:bool").text() == "16:bool"
    # float inputs are counted at the analysis' dtype, like activations: a float dtype is dropped
    assert parse_input("3x8x8:fp16") == parse_input(InputSpec((3, 8, 8), torch.float16)) == InputSpec((3, 8, 8))
    assert parse_inputs("3x8x8") == (InputSpec((3, 8, 8)),) and parse_inputs((3, 8, 8)) == (InputSpec((3, 8, 8)),)
    several = parse_inputs(["3x8x8", (1, 8, 8), InputSpec((128,), torch.int64)])
    assert [s.text() for s in several] == ["3x8x8", "1x8x8", "128:int64"]


@pytest.mark.parametrize(("value", "error", "fragment"), [
    ("3by50", ParameterError, "malformed input shape"), ("3x0x50", ParameterError, "positive dimensions"),
    ("1x128:int65", ParameterError, "unknown input dtype 'int65'"), ([], ParameterTypeError, "a list of them"),
    (3.5, ParameterTypeError, "must be a shape"), ([["3x8x8"]], ParameterTypeError, "must be a shape"),
])
def test_bad_inputs_name_the_parameter(value, error, fragment):
    with pytest.raises(error, match=fragment) as raised:
        parse_inputs(value)
    assert "`input_shape`" in str(raised.value)


def test_two_image_inputs_by_hand():
    report = analyze(TwoImages(), batch=2, input_shape=["3x8x8", "1x8x8"])
    # 2 x 8 x 6 x 6 = 576 outputs each; rgb: 27 MACs each, depth: 9 -> 2 x 576 x (27 + 9) flops
    assert report.totals.flops == 2 * 576 * (27 + 9) == 41472
    assert report.inputs == ["3x8x8", "1x8x8"] and report.input_shape == [3, 8, 8]
    # both inputs are read from DRAM: 2 x (3 + 1) x 64 fp32 elements
    reads = sum(k.input_bytes for k in report.kernels)
    assert reads >= 2 * 4 * 64 * 4


def test_int64_token_ids_through_an_embedding_by_hand():
    report = analyze(Tokens(), batch=2, input_shape="128:int64", dtype="fp16")
    assert report.capture == "meta" and report.inputs == ["128:int64"]
    lookup = report.kernels[0]
    # ids stay 8 bytes whatever the dtype: 2 x 128 x 8; the table 100 x 16 and the 2 x 128 x 16
    # vectors are fp16 (2 bytes)
    assert lookup.bytes == 2 * 128 * 8 + 100 * 16 * 2 + 2 * 128 * 16 * 2
    assert report.totals.flops == 2 * (2 * 128) * 16 * 4  # the linear head: 2 x MACs


@pytest.mark.parametrize("as_dict", [True, False])
def test_dict_and_tuple_outputs_are_counted(as_dict):
    report = analyze(Heads(as_dict), batch=2, input_shape=(3, 8, 8))
    # conv 2 x 4 x 36 outputs x 27 MACs; heads 2 x 4 x (10 + 2) MACs; times 2 flops per MAC
    assert report.totals.flops == 2 * (2 * 4 * 36 * 27 + 2 * 4 * 12)
    assert {k.op for k in report.kernels} >= {"conv", "linear"}


def test_a_model_that_refuses_its_inputs_names_them():
    with pytest.raises(ValueError, match=r"inputs of shapes \(2, 3, 8, 8\), \(2, 128\) int64"):
        analyze(TwoImages(), batch=2, input_shape=["3x8x8", "128:int64"])
