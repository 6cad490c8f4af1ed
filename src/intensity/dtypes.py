"""Analysis data types: the byte width every float tensor is counted at (DESIGN: units), and the
torch dtype a measurement runs in. This is the one table of dtypes; everything else asks it."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from intensity.registry import Registry


@dataclass(frozen=True)
class DType:
    name: str
    bytes: int
    description: str
    torch_name: str | None = None  # None: counted, but no torch kernels run in it here

    @property
    def torch_dtype(self) -> torch.dtype:
        """The torch dtype a model runs in for this data type (tf32 runs float32 storage)."""
        if self.torch_name is None:
            raise ValueError(f"{self.name} is for analysis only: running a model in it needs a "
                             f"quantization toolchain; measure in fp32, fp16 or bf16")
        return getattr(torch, self.torch_name)


DTYPES: Registry[DType] = Registry("dtype", hint="choose one of fp32, tf32, fp16, bf16, int8")
for _dtype in (
    DType("fp32", 4, "IEEE float32", "float32"),
    DType("tf32", 4, "float32 storage, TF32 tensor-core math", "float32"),
    DType("fp16", 2, "IEEE float16", "float16"),
    DType("bf16", 2, "bfloat16", "bfloat16"),
    DType("int8", 1, "8-bit integer (quantized inference)"),
):
    DTYPES.add(_dtype.name, _dtype)

_ALIASES = {"float32": "fp32", "float": "fp32", "float16": "fp16", "half": "fp16",
            "bfloat16": "bf16", "qint8": "int8"}
_FROM_TORCH = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16",
               torch.int8: "int8", torch.qint8: "int8", torch.uint8: "int8"}


def resolve_dtype(name: str | DType | torch.dtype) -> DType:
    """'fp16', 'half', torch.float16 or a DType -> the DType."""
    if isinstance(name, DType):
        return name
    if isinstance(name, torch.dtype):
        if name not in _FROM_TORCH:
            raise ValueError(f"unsupported dtype {name}; use fp32, tf32, fp16, bf16 or int8")
        return DTYPES[_FROM_TORCH[name]]
    if not isinstance(name, str):
        raise ValueError(f"dtype must be a name such as 'fp16' or a torch.dtype, not {name!r}")
    key = name.strip().lower().removeprefix("torch.")
    return DTYPES[_ALIASES.get(key, key)]
