"""Triton block-fusion kernels: the loop-fused FFN (Eqn 32) and the stride-1 ConvFirst block.

Both are implicit-GEMM kernels over pixel tiles of channels-last activations: one program loads a
BLOCK_P x C tile, and for each chunk of BLOCK_R hidden channels computes `relu(X U_r + a_r)` with
`tl.dot`, multiplies it straight into the BLOCK_P x O output accumulator (`tl.dot` again) and drops
it, so the hidden layer never reaches DRAM. The ConvFirst kernel first computes the grouped 3x3
conv of its tile as nine `tl.dot`s with block-diagonal (group width 8) weights over shifted input
tiles (neighbours are re-read through the cache, never written), and starts the output
accumulator from the input tile (the residual). Batch norms are folded into the weights on the
host (`fuse_conv_bn_eval`) before the kernels see them.

fp16/bf16 on GPU (fp32 accumulation), fp32 in the interpreter (TRITON_INTERPRET=1, CPU tensors).
Tile sizes are autotuned on GPU (all blocks >= 16 so `tl.dot` compiles); the interpreter uses the
smallest config. Not covered, so the caller falls back to the PyTorch reference with the reason:
stride 2 (BlurPool), group width other than 8, channels over MAX_CHANNELS. The MBConv block has
no Triton kernel (SE needs a grid-wide reduction); it always runs the reference.
"""
from __future__ import annotations

import functools
import importlib.util
import os

import torch

GROUP_WIDTH = 8
MAX_CHANNELS = 256  # input/output tiles of up to 256 channels stay in registers/shared memory


def available() -> bool:
    """Whether Triton is installed (it is imported only when a kernel runs)."""
    return importlib.util.find_spec("triton") is not None


def interpreted() -> bool:
    return os.environ.get("TRITON_INTERPRET") == "1"


def _pow2(n: int) -> int:
    return max(16, 1 << (n - 1).bit_length())


@functools.cache
def _kernels():  # noqa: ANN202 (triton objects)
    from intensity.kernels import _triton_impl as impl

    return impl.ffn_kernel, impl.convfirst_kernel, impl.ffn_kernel_tuned, impl.convfirst_kernel_tuned


def _launch(which: int, grid_pixels: int, *args, **constexprs):  # noqa: ANN002, ANN003, ANN202
    if not args[0].is_cuda and not interpreted():
        raise ValueError("the Triton kernels need CUDA tensors, or TRITON_INTERPRET=1 set before triton is "
                         "imported; on CPU use intensity.kernels.reference (fuse() does)")
    kernels = _kernels()
    if interpreted():
        kernel, fixed = kernels[which], {"BLOCK_P": 16, "BLOCK_R": 16}
        kernel[(-(-grid_pixels // 16),)](*args, **constexprs, **fixed)
    else:
        kernel = kernels[which + 2]
        kernel[lambda meta: (-(-grid_pixels // meta["BLOCK_P"]),)](*args, **constexprs)


def ffn(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor,
        residual: torch.Tensor | None = None) -> torch.Tensor:
    """Fused FFN on pixel-major `x` (P, C): relu(x w1^T + b1) w2^T + b2 (+ residual), (P, O)."""
    p, c = x.shape
    r, o = w2.shape[1], w2.shape[0]
    if w1.shape != (r, c):
        raise ValueError(f"ffn weights do not chain: w1 {tuple(w1.shape)}, w2 {tuple(w2.shape)}, x {tuple(x.shape)}")
    if max(c, o) > MAX_CHANNELS:
        raise ValueError(f"{max(c, o)} channels exceed the fused FFN tile ({MAX_CHANNELS}); use the reference")
    x = x.contiguous()
    u, v = w1.t().contiguous().to(x.dtype), w2.t().contiguous().to(x.dtype)
    out = torch.empty(p, o, dtype=x.dtype, device=x.device)
    res = residual.contiguous() if residual is not None else out
    _launch(0, p, x, u, b1.float().contiguous(), v, b2.float().contiguous(), res, out, p, c, r, o,
            HAS_RES=residual is not None, BLOCK_C=_pow2(c), BLOCK_O=_pow2(o))
    return out


def block_diagonal(conv_w: torch.Tensor) -> torch.Tensor:
    """Grouped 3x3 weights (C, 8, 3, 3) -> (9, C_in, C_out) dense per tap, zero off the groups."""
    c, width = conv_w.shape[0], conv_w.shape[1]
    dense = torch.zeros(9, c, c, dtype=conv_w.dtype, device=conv_w.device)
    taps = conv_w.reshape(c, width, 9).permute(2, 1, 0)  # (9, ci within group, co)
    for g in range(c // width):
        block = slice(g * width, (g + 1) * width)
        dense[:, block, block] = taps[:, :, block]
    return dense


def convfirst_unsupported(x: torch.Tensor, block) -> str | None:  # noqa: ANN001 (FusedConvFirst)
    """Why the Triton ConvFirst kernel cannot take this block and input, or None if it can."""
    c = block.conv_w.shape[0]
    if block.stride != 1:
        return "stride 2 (BlurPool + cat) has no Triton kernel"
    if block.conv_w.shape[1] != GROUP_WIDTH or c % GROUP_WIDTH:
        return f"group width {block.conv_w.shape[1]} with {c} channels; the kernel needs group width {GROUP_WIDTH}"
    if c > MAX_CHANNELS:
        return f"{c} channels exceed the kernel's tile ({MAX_CHANNELS})"
    if x.dim() != 4 or x.shape[1] != c:
        return f"input of shape {tuple(x.shape)} does not match {c} channels"
    return None


def convfirst(x: torch.Tensor, block) -> torch.Tensor:  # noqa: ANN001 (FusedConvFirst)
    """The stride-1 ConvFirst block as one Triton kernel; returns channels-last NCHW."""
    reason = convfirst_unsupported(x, block)
    if reason:
        raise ValueError(f"the Triton ConvFirst kernel cannot run this block: {reason}")
    n, c, h, w = x.shape
    xl = x.permute(0, 2, 3, 1).contiguous()
    dense = getattr(block, "_dense", None)
    if dense is None or dense.device != x.device or dense.dtype != x.dtype:
        dense = block._dense = block_diagonal(block.conv_w).to(x.dtype)
    ffn_w = block.ffn
    out = torch.empty_like(xl)
    _launch(1, n * h * w, xl, dense, block.conv_b.float().contiguous(), ffn_w.w1.t().contiguous().to(x.dtype),
            ffn_w.b1.float().contiguous(), ffn_w.w2.t().contiguous().to(x.dtype), ffn_w.b2.float().contiguous(),
            out, n, h, w, c, ffn_w.w1.shape[0], BLOCK_C=_pow2(c))
    return out.permute(0, 3, 1, 2)
