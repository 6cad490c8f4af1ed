from __future__ import annotations

import pytest

from intensity.dtypes import resolve_dtype
from intensity.registry import Registry, UnknownNameError


def test_register_by_decorator_and_lookup():
    registry: Registry[object] = Registry("thing")

    @registry.register("alpha", "a")
    def alpha() -> int:
        return 1

    assert registry["alpha"] is alpha and registry["a"] is alpha
    assert registry.names() == ["a", "alpha"]


def test_duplicate_registration_is_an_error():
    registry: Registry[int] = Registry("thing")
    registry.add("x", 1)
    with pytest.raises(ValueError, match="registered twice"):
        registry.add("x", 2)


def test_unknown_name_suggests_close_matches():
    registry: Registry[int] = Registry("model", hint="see list-models")
    for name in ("noscope-coral", "noscope-night", "resnet18"):
        registry.add(name, 0)
    with pytest.raises(UnknownNameError) as error:
        registry["noscope-corl"]
    assert str(error.value) == ("unknown model 'noscope-corl'; did you mean 'noscope-coral', "
                                "'noscope-night'; see list-models")
    assert isinstance(error.value, KeyError)


def test_dtypes_have_the_design_byte_widths_and_aliases():
    assert {d: resolve_dtype(d).bytes for d in ("fp32", "tf32", "fp16", "bf16", "int8")} == {
        "fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "int8": 1}
    assert resolve_dtype("half").name == "fp16" and resolve_dtype("BFloat16").name == "bf16"
    with pytest.raises(KeyError, match="unknown dtype 'fp8'"):
        resolve_dtype("fp8")


def test_choices_help_reads_each_objects_docstring():
    from intensity.registry import Registry

    registry: Registry = Registry("colour")

    @registry.register("red")
    def _red():
        """warm, the default

        More text that the help leaves out."""

    @registry.register("blue")
    def _blue():
        return "blue"

    assert registry.summary("red") == "warm, the default" and registry.summary("blue") == "blue"
    assert registry.choices_help() == "red (warm, the default), blue (blue)"  # registration order
    assert registry["blue"]() == "blue"  # the registered function itself


def test_fusion_policies_and_attention_modes_are_registries():
    from intensity.cost.attention import ATTENTION_MODES
    from intensity.cost.fusion import FUSION_POLICIES, check_policy

    assert list(FUSION_POLICIES) == ["none", "trivial", "block", "inductor"] and list(ATTENTION_MODES) == ["flash", "math"]
    with pytest.raises(ValueError, match="unknown fusion policy 'blk'; choose one of none, trivial, block, inductor"):
        check_policy("blk", ())
