"""Analysis data types: the byte width every float tensor is counted at (DESIGN: units)."""
from __future__ import annotations

from dataclasses import dataclass

from intensity.registry import Registry


@dataclass(frozen=True)
class DType:
    name: str
    bytes: int
    description: str


DTYPES: Registry[DType] = Registry("dtype", hint="choose one of fp32, tf32, fp16, bf16, int8")
for _dtype in (
    DType("fp32", 4, "IEEE float32"),
    DType("tf32", 4, "float32 storage, TF32 tensor-core math"),
    DType("fp16", 2, "IEEE float16"),
    DType("bf16", 2, "bfloat16"),
    DType("int8", 1, "8-bit integer (quantized inference)"),
):
    DTYPES.add(_dtype.name, _dtype)

_ALIASES = {"float32": "fp32", "float": "fp32", "float16": "fp16", "half": "fp16",
            "bfloat16": "bf16", "qint8": "int8"}


def resolve_dtype(name: str | DType) -> DType:
    if isinstance(name, DType):
        return name
    key = name.strip().lower()
    return DTYPES[_ALIASES.get(key, key)]
