"""Costs of ops the built-in formulas do not know: a user's torch.library custom op, a
third-party extension's op, or an aten op to count differently.

    @torch.library.custom_op("mylib::scale_shift", mutates_args=())
    def scale_shift(x: torch.Tensor, k: float) -> torch.Tensor: ...

    intensity.register_op_cost(scale_shift, flops=lambda x, k, out: 2 * x.elements)

    @intensity.op_cost(torch.ops.mylib.scale_shift, replace=True)   # the same, as a decorator
    def scale_shift_flops(x, k, out):
        return 2 * x.elements

`flops` and `bytes` are numbers or callables of the op's arguments (tensors given as `TensorInfo`:
`.shape`, `.elements`, `.nbytes` at the analysed dtype, `.role`, `.is_float`) and `out`, its
result (a TensorInfo, or a tuple of them). Without `bytes` the op moves its compulsory traffic:
it reads every tensor argument and writes every result once, as every op does. Declared bytes
count when the op is its own kernel (under `block` fusion a block's traffic is its boundary).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from intensity.cost.formulas import (
    OP_FORMULAS, OpCall, OpCost, OpCostError, OpKey, TensorInfo, op_name, resolve_op,
)
from intensity.errors import first_line

Amount = int | float | Callable[..., int | float]


def register_op_cost(op: object, *, flops: Amount, bytes: Amount | None = None,  # noqa: A002
                     kind: str = "custom", replace: bool = False) -> OpKey:
    """Count `op` (torch.ops.mylib.myop, a torch.library.custom_op function, 'mylib::myop') with
    `flops` (and `bytes`, default: compulsory traffic) in every analysis from now on.

    `kind` labels its kernels (the `--only` filter; `act`, `add`, `mul` or `norm` let the
    `trivial` policy fuse it into a conv like those). A second registration of one op is an
    error unless `replace=True`. Returns the op object it was registered under.
    """
    key = resolve_op(op)
    _check_amount(flops, "flops")
    if bytes is not None:
        _check_amount(bytes, "bytes")
    if not isinstance(kind, str) or not kind.strip():
        raise TypeError(f"`kind` must be a non-empty string such as 'custom', got {kind!r}")
    if not isinstance(replace, bool):
        raise TypeError(f"`replace` must be True or False, got {replace!r}")
    return OP_FORMULAS.add(key, _formula(op_name(key), flops, bytes, kind), replace=replace)


def op_cost(op: object, *, bytes: Amount | None = None, kind: str = "custom",  # noqa: A002
            replace: bool = False) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Decorator form of `register_op_cost`: the decorated function is the op's flops formula."""
    resolve_op(op)  # a wrong op fails here, where it is written

    def decorate(flops: Callable[..., int]) -> Callable[..., int]:
        register_op_cost(op, flops=flops, bytes=bytes, kind=kind, replace=replace)
        return flops

    return decorate


def unregister_op_cost(op: object) -> None:
    """Forget the cost registered for `op` (KeyError if it has none)."""
    OP_FORMULAS.remove(op)


def _check_amount(amount: object, parameter: str) -> None:
    if callable(amount):
        return
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"`{parameter}` must be a number or a function of the op's arguments "
                        f"and `out`, got {type(amount).__name__} {amount!r}")
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"`{parameter}` must be a finite number >= 0, got {amount!r}")


def _formula(name: str, flops: Amount, nbytes: Amount | None, kind: str) -> Callable[[OpCall], OpCost]:
    def formula(call: OpCall) -> OpCost:
        traffic = None if nbytes is None else _evaluate(nbytes, call, name, "bytes")
        return OpCost(_evaluate(flops, call, name, "flops"), kind, name, traffic=traffic)

    return formula


def _evaluate(amount: Amount, call: OpCall, name: str, parameter: str) -> int:
    """The amount for one call: a number as is, a callable of (*args, out=..., **kwargs)."""
    if not callable(amount):
        return round(amount)
    out: Any = call.outputs[0] if len(call.outputs) == 1 else call.outputs
    try:
        value = amount(*call.args, out=out, **call.kwargs)
    except Exception as error:  # the user's formula: one line naming it and the op
        raise OpCostError(f"the `{parameter}` formula registered for {name} raised "
                          f"{type(error).__name__}: {first_line(error)}; it is called as "
                          f"{parameter}(*args, out=..., **kwargs) with tensors as TensorInfo "
                          f"(.shape, .elements, .nbytes)") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise OpCostError(f"the `{parameter}` formula registered for {name} returned {value!r}; "
                          f"it must return a finite number >= 0")
    return round(value)


__all__ = ["TensorInfo", "op_cost", "register_op_cost", "unregister_op_cost"]
