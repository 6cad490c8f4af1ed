"""What a model is fed: one or several inputs, each a per-sample shape and an optional dtype.

Text forms (the CLI's `--input`, given once per input): `3x224x224` (a float image), `1x128:int64`
(128 token ids), `16:bool` (a mask). The batch dimension is never written: it is prepended to
every input. In Python: a shape tuple `(3, 224, 224)`, a text, an `InputSpec`, or a list of these
for a model with several inputs (`["3x32x32", "1x128:int64"]`).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from intensity.errors import ParameterError, ParameterTypeError

_SHAPE = re.compile(r"^\d+(x\d+)*$")

# Names a user may write after the colon. Float inputs are all None: they are counted at the
# analysis' dtype (`dtype`, --dtype), like activations, so '3x224x224:fp16' is just '3x224x224'.
INPUT_DTYPES: dict[str, torch.dtype | None] = {
    "float": None, "fp32": None, "float32": None, "fp16": None, "float16": None, "half": None,
    "bf16": None, "bfloat16": None, "int64": torch.int64, "long": torch.int64, "int32": torch.int32, "int": torch.int32,
    "int16": torch.int16, "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool,
}
_NAMES = {dtype: name for name, dtype in reversed(INPUT_DTYPES.items()) if dtype is not None}
EXAMPLE = "3x224x224 (an image) or 1x128:int64 (token ids)"


@dataclass(frozen=True)
class InputSpec:
    """One forward argument: its shape without the batch, and its dtype (None: the model's float)."""

    shape: tuple[int, ...]
    dtype: torch.dtype | None = None

    @property
    def is_float(self) -> bool:
        return self.dtype is None or self.dtype.is_floating_point

    def text(self) -> str:
        """'1x128:int64'; a float input without a dtype is just its shape."""
        shape = "x".join(map(str, self.shape))
        if self.dtype is None:
            return shape
        return f"{shape}:{_NAMES.get(self.dtype, str(self.dtype).removeprefix('torch.'))}"

    def batched(self, batch: int) -> tuple[int, ...]:
        return (batch, *self.shape)


def parse_input(value: str | Sequence[int] | InputSpec, name: str = "input_shape") -> InputSpec:
    """'3x224x224', '1x128:int64', (3, 224, 224) or an InputSpec -> InputSpec."""
    if isinstance(value, InputSpec):
        return _checked(value.shape, value.dtype, value, name)
    if isinstance(value, str):
        return _from_text(value, name)
    if isinstance(value, Sequence) and all(_is_int(d) for d in value):
        return _checked(tuple(int(d) for d in value), None, value, name)
    raise ParameterTypeError(f"`{name}` must be a shape such as {EXAMPLE}, or a tuple of ints, "
                             f"not {type(value).__name__} {value!r}")


def parse_inputs(value: str | Sequence | InputSpec, name: str = "input_shape") -> tuple[InputSpec, ...]:
    """One input or several: a text or shape tuple is one; a list of texts/tuples/specs is several."""
    if isinstance(value, (str, InputSpec)) or (isinstance(value, Sequence) and value
                                               and all(_is_int(d) for d in value)):
        return (parse_input(value, name),)
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)) and value:
        return tuple(parse_input(item, name) for item in value)
    raise ParameterTypeError(f"`{name}` must be a shape such as {EXAMPLE}, or a list of them "
                             f"(one per model input), not {value!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _from_text(text: str, name: str) -> InputSpec:
    shape_text, _, dtype_text = text.strip().lower().partition(":")
    if not _SHAPE.match(shape_text.strip()):
        raise ParameterError(f"malformed input shape {text!r} for `{name}`: expected one sample's "
                             f"shape without the batch, such as {EXAMPLE}")
    dtype = None
    if dtype_text:
        if dtype_text.strip() not in INPUT_DTYPES:
            raise ParameterError(f"unknown input dtype {dtype_text!r} in {text!r} for `{name}`; "
                                 f"use one of {', '.join(INPUT_DTYPES)}")
        dtype = INPUT_DTYPES[dtype_text.strip()]
    return _checked(tuple(int(d) for d in shape_text.split("x")), dtype, text, name)


def _checked(shape: tuple[int, ...], dtype: torch.dtype | None, given: object, name: str) -> InputSpec:
    if not shape or any(d <= 0 for d in shape):
        raise ParameterError(f"input shape {given!r} for `{name}` must have positive dimensions, "
                             f"e.g. {EXAMPLE}")
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise ParameterTypeError(f"`{name}`: the dtype of {given!r} must be a torch.dtype such as "
                                 f"torch.int64, not {dtype!r}")
    return InputSpec(shape, None if dtype is not None and dtype.is_floating_point else dtype)
