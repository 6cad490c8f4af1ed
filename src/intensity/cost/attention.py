"""Attention during capture: F.scaled_dot_product_attention as one flash kernel, or its math.

`AttentionMode` sees the call before torch splits it into backend ops and hands it to the
recorder (`attention="flash"`: one kernel reading q, k, v once) or runs the unfused math
(`attention="math"`: the scores go through DRAM). The recorder is duck-typed (`muted`,
`fused_attention`) so this module does not import the counter.
"""
from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from intensity.registry import Registry

# How an attention call is counted, by name: a function (mode, args, kwargs) -> output; its
# docstring's first line is the CLI's help text. Adding a mode is one decorated function.
ATTENTION_MODES: Registry[Any] = Registry("attention mode", hint="choose flash or math")


@ATTENTION_MODES.register("flash")
def _flash(mode: AttentionMode, args: tuple, kwargs: dict) -> torch.Tensor:
    """one fused kernel reading q, k, v once, the default"""
    return mode.recorder.fused_attention(mode._original, args, kwargs)


@ATTENTION_MODES.register("math")
def _math(mode: AttentionMode, args: tuple, kwargs: dict) -> torch.Tensor:  # noqa: ARG001
    """the unfused math: the scores go through DRAM"""
    return sdpa_math(args, kwargs)


def check_attention(attention: str) -> None:
    if attention not in ATTENTION_MODES:
        raise ValueError(f"unknown attention model {attention!r}; choose flash (one fused kernel, "
                         f"the default) or math (scores materialised)")


_SDPA_NAMES = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")


def sdpa_math(args: tuple, kwargs: dict) -> torch.Tensor:
    """Attention as matmul, softmax, matmul (inference: no dropout)."""
    named = dict(zip(_SDPA_NAMES, args)) | kwargs
    return torch.ops.aten._scaled_dot_product_attention_math(
        named["query"], named["key"], named["value"], named.get("attn_mask"), 0.0,
        bool(named.get("is_causal", False)), scale=named.get("scale"),
        enable_gqa=bool(named.get("enable_gqa", False)))[0]


def sdpa_arguments(args: tuple, kwargs: dict) -> tuple:
    """q, k, v, attn_mask and is_causal of an F.scaled_dot_product_attention call."""
    named = dict(zip(_SDPA_NAMES, args)) | kwargs
    return (named["query"], named["key"], named["value"], named.get("attn_mask"),
            bool(named.get("is_causal", False)))


class AttentionMode(TorchFunctionMode):
    """Sees F.scaled_dot_product_attention before torch splits it into backend ops.

    While a torch-function mode is active, nn.MultiheadAttention and nn.TransformerEncoderLayer
    skip their fused C++ fast paths and take F.multi_head_attention_forward. That function runs
    with the mode switched off (torch pops a mode while it handles a call), so its inner call is
    caught by putting a wrapper in place of torch.nn.functional.scaled_dot_product_attention.
    """

    def __init__(self, recorder: Any, attention: str) -> None:
        super().__init__()
        self.recorder = recorder
        self.attention = attention
        self.calls = 0
        self._original = torch.nn.functional.scaled_dot_product_attention

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 (torch API)
        kwargs = kwargs or {}
        if func is not self._original or self.recorder.muted:
            return func(*args, **kwargs)
        return self.attend(args, kwargs)

    def attend(self, args: tuple, kwargs: dict) -> torch.Tensor:
        self.calls += 1
        return ATTENTION_MODES[self.attention](self, args, kwargs)

    def _wrapper(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        if self.recorder.muted:
            return self._original(*args, **kwargs)
        return self.attend(args, kwargs)

    def __enter__(self) -> AttentionMode:
        torch.nn.functional.scaled_dot_product_attention = self._wrapper
        try:
            return super().__enter__()
        except BaseException:
            torch.nn.functional.scaled_dot_product_attention = self._original
            raise

    def __exit__(self, *exc: Any) -> None:
        torch.nn.functional.scaled_dot_product_attention = self._original
        super().__exit__(*exc)
