"""Op costs keyed by op objects, and the public way to give a custom op's cost.

The custom op: y = x * k + 1 on a (2, 4, 6, 6) input, 288 elements. Registered flops 3 per element
= 864; compulsory traffic reads x and writes y once: fp32 288 x 4 x 2 = 2304 bytes.
"""
from __future__ import annotations

import json
import sys
import textwrap

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

import intensity
from intensity.cli import app
from intensity.cost.formulas import (
    ALLOC_OPS, OP_FORMULAS, VIEW_OPS, OpFormulas, formula_for, op_name, resolve_op,
)


@torch.library.custom_op("intensity_test::scale_shift", mutates_args=())
def scale_shift(x: torch.Tensor, k: float) -> torch.Tensor:
    return x * k + 1


@scale_shift.register_fake
def _(x: torch.Tensor, k: float) -> torch.Tensor:
    return torch.empty_like(x)


class ScaleShift(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return scale_shift(x, 2.0)


def _analyze(dtype: str = "fp32"):
    return intensity.analyze(ScaleShift(), batch=2, input_shape=(4, 6, 6), dtype=dtype)


@pytest.fixture
def clean():
    """Registrations made in a test are forgotten after it."""
    yield
    for op in ("intensity_test::scale_shift",):
        if op in OP_FORMULAS:
            intensity.unregister_op_cost(op)


# -- built-in formulas

def test_every_builtin_formula_names_an_op_of_the_installed_torch():
    assert OP_FORMULAS.missing == []
    for key in OP_FORMULAS:
        assert isinstance(key, (torch._ops.OpOverloadPacket, torch._ops.OpOverload))
        assert resolve_op(key._qualified_op_name) is key  # a real, resolvable aten op
    assert len(OP_FORMULAS) > 150


def test_every_view_and_alloc_name_is_an_aten_op():
    assert [name for name in sorted(VIEW_OPS | ALLOC_OPS) if not hasattr(torch.ops.aten, name)] == []


def test_a_name_that_is_no_op_is_caught_not_kept():
    planted = OpFormulas()
    planted.add_builtin("_to_dtype", lambda call: None)  # the dead entry this issue found
    planted.add_builtin("relu", lambda call: None)
    assert planted.missing == ["_to_dtype"] and planted.names() == ["aten::relu"]


def test_lookup_by_op_object_overload_and_name():
    relu = formula_for(torch.ops.aten.relu)
    assert relu is not None
    assert formula_for(torch.ops.aten.relu.default) is relu  # an overload finds its packet's formula
    assert formula_for("relu") is relu and formula_for("aten::relu") is relu
    assert formula_for(torch.ops.aten.relu_.default) is relu  # in-place shares it
    assert op_name(torch.ops.aten.relu.default) == "relu"
    assert op_name(torch.ops.intensity_test.scale_shift.default) == "intensity_test::scale_shift"


# -- registering a custom op's cost

def test_a_custom_op_is_uncounted_until_registered_then_counted_exactly(clean):
    before = _analyze()
    assert [u.op for u in before.uncounted] == ["intensity_test::scale_shift"]
    assert before.kernels == []

    intensity.register_op_cost(scale_shift, flops=lambda x, k, out: 3 * x.elements)
    after = _analyze()
    assert after.uncounted == []
    (kernel,) = after.kernels
    assert (kernel.op, kernel.detail) == ("custom", "intensity_test::scale_shift")
    assert kernel.flops == 3 * 288 == 864
    assert (kernel.input_bytes, kernel.weight_bytes, kernel.output_bytes) == (1152, 0, 1152)
    assert after.totals.flops == 864 and after.totals.bytes == 2304


def test_declared_bytes_see_the_analysed_dtype(clean):
    intensity.register_op_cost(torch.ops.intensity_test.scale_shift, flops=864,
                               bytes=lambda x, k, out: x.nbytes + out.nbytes + 64, kind="scale")
    (kernel,) = _analyze("fp16").kernels
    # fp16: 288 x 2 read + 288 x 2 written + 64 = 1216, split like the compulsory traffic (half, half)
    assert (kernel.op, kernel.flops, kernel.bytes) == ("scale", 864, 1216)
    assert (kernel.input_bytes, kernel.output_bytes) == (608, 608)


def test_the_decorator_form(clean):
    @intensity.op_cost("intensity_test::scale_shift", bytes=1000)
    def flops(x, k, *, out):
        return x.elements * 2

    assert flops.__name__ == "flops"  # the function itself is returned
    (kernel,) = _analyze().kernels
    assert (kernel.flops, kernel.bytes) == (576, 1000)


def test_a_second_registration_is_an_error_unless_replaced(clean):
    intensity.register_op_cost(scale_shift, flops=1)
    with pytest.raises(ValueError, match="already has a cost formula; pass replace=True"):
        intensity.register_op_cost("intensity_test::scale_shift", flops=2)
    intensity.register_op_cost(scale_shift, flops=2, replace=True)
    assert _analyze().totals.flops == 2


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"op": torch.relu, "flops": 1}, TypeError, "a Python function; its aten op is torch.ops.aten.relu"),
    ({"op": 42, "flops": 1}, TypeError, "`op` must be an op"),
    ({"op": "nolib::nothing", "flops": 1}, ValueError, "'nolib::nothing' is not an op in the installed torch"),
    ({"op": "no_such_aten_op", "flops": 1}, ValueError, "no torch.ops.aten.no_such_aten_op"),
    ({"op": scale_shift, "flops": "3"}, TypeError, "`flops` must be a number or a function"),
    ({"op": scale_shift, "flops": -1}, ValueError, "`flops` must be a finite number >= 0"),
    ({"op": scale_shift, "flops": float("nan")}, ValueError, "`flops` must be a finite number >= 0"),
    ({"op": scale_shift, "flops": 1, "bytes": True}, TypeError, "`bytes` must be a number"),
    ({"op": scale_shift, "flops": 1, "kind": ""}, TypeError, "`kind` must be a non-empty string"),
    ({"op": scale_shift, "flops": 1, "replace": "yes"}, TypeError, "`replace` must be True or False"),
])
def test_bad_arguments_are_clear_errors(clean, arguments, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        intensity.register_op_cost(**arguments)
    assert "intensity_test::scale_shift" not in OP_FORMULAS


def test_unregistering_an_op_without_a_cost_is_a_key_error():
    with pytest.raises(KeyError, match="has no registered cost formula"):
        intensity.unregister_op_cost("intensity_test::scale_shift")


@pytest.mark.parametrize(("flops", "message"), [
    (lambda x, k, out: 1 / 0, "the `flops` formula registered for intensity_test::scale_shift raised "
                              "ZeroDivisionError"),
    (lambda x, k, out: -5, "returned -5; it must return a finite number >= 0"),
    (lambda x, out: 1, "raised TypeError"),  # wrong signature: k is missing
])
def test_a_failing_formula_is_one_error_naming_the_op(clean, flops, message):
    intensity.register_op_cost(scale_shift, flops=flops)
    with pytest.raises(ValueError) as caught:
        _analyze()
    assert message in str(caught.value) and "\n" not in str(caught.value)


MODEL_FILE = """
    import torch
    from torch import nn

    import intensity

    @torch.library.custom_op("intensity_cli_test::double", mutates_args=())
    def double(x: torch.Tensor) -> torch.Tensor:
        return x * 2

    @double.register_fake
    def _(x):
        return torch.empty_like(x)

    intensity.register_op_cost(double, flops=lambda x, out: x.elements)

    class Net(nn.Module):
        def forward(self, x):
            return double(x)

    def build():
        return Net()
"""


def test_the_cli_counts_a_custom_op_registered_in_the_model_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "customnet.py").write_text(textwrap.dedent(MODEL_FILE))
    try:
        result = CliRunner().invoke(app, ["analyze", "customnet.py:build", "--input", "3x8x8",
                                          "--format", "json"])
    finally:
        sys.modules.pop("customnet", None)
        if "intensity_cli_test::double" in OP_FORMULAS:
            intensity.unregister_op_cost("intensity_cli_test::double")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["uncounted"] == []
    assert [(k["op"], k["flops"]) for k in report["kernels"]] == [("custom", 3 * 8 * 8)]
