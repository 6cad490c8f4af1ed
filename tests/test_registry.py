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
