"""The Triton JIT kernels (imported only by triton_kernels, lazily: this module needs triton).

They live at module level because Triton (and its interpreter) resolve the helper `ffn_tile`
through the kernel's module globals. See triton_kernels for what they compute.
"""
import triton
import triton.language as tl


@triton.jit
def ffn_tile(x, acc, u_ptr, b1_ptr, v_ptr, R, O, offs_c, offs_o, mask_c, mask_o,
             BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_O: tl.constexpr):
    # Eqn 32: hidden channels in chunks of BLOCK_R, produced and consumed in registers
    for r0 in range(0, R, BLOCK_R):
        offs_r = r0 + tl.arange(0, BLOCK_R)
        mask_r = offs_r < R
        u = tl.load(u_ptr + offs_c[:, None] * R + offs_r[None, :], mask=mask_c[:, None] & mask_r[None, :], other=0.0)
        b1 = tl.load(b1_ptr + offs_r, mask=mask_r, other=0.0)
        h = tl.maximum(tl.dot(x, u) + b1[None, :], 0.0)
        v = tl.load(v_ptr + offs_r[:, None] * O + offs_o[None, :], mask=mask_r[:, None] & mask_o[None, :], other=0.0)
        acc += tl.dot(h.to(v.dtype), v)
    return acc

@triton.jit
def ffn_kernel(x_ptr, u_ptr, b1_ptr, v_ptr, b2_ptr, res_ptr, out_ptr, P, C, R, O,
               HAS_RES: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_R: tl.constexpr,
               BLOCK_C: tl.constexpr, BLOCK_O: tl.constexpr):
    pid = tl.program_id(0)
    offs_p = pid * BLOCK_P + tl.arange(0, BLOCK_P)
    offs_c, offs_o = tl.arange(0, BLOCK_C), tl.arange(0, BLOCK_O)
    mask_p, mask_c, mask_o = offs_p < P, offs_c < C, offs_o < O
    x = tl.load(x_ptr + offs_p[:, None] * C + offs_c[None, :], mask=mask_p[:, None] & mask_c[None, :], other=0.0)
    out_mask = mask_p[:, None] & mask_o[None, :]
    b2 = tl.load(b2_ptr + offs_o, mask=mask_o, other=0.0).to(tl.float32)
    acc = tl.zeros((BLOCK_P, BLOCK_O), dtype=tl.float32) + b2[None, :]
    if HAS_RES:
        acc += tl.load(res_ptr + offs_p[:, None] * O + offs_o[None, :], mask=out_mask, other=0.0).to(tl.float32)
    acc = ffn_tile(x, acc, u_ptr, b1_ptr, v_ptr, R, O, offs_c, offs_o, mask_c, mask_o, BLOCK_R, BLOCK_C, BLOCK_O)
    tl.store(out_ptr + offs_p[:, None] * O + offs_o[None, :], acc.to(out_ptr.dtype.element_ty), mask=out_mask)

@triton.jit
def convfirst_kernel(x_ptr, wc_ptr, bc_ptr, u_ptr, b1_ptr, v_ptr, b2_ptr, out_ptr, NB, H, W, C, R,
                     BLOCK_P: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
    # one tile of BLOCK_P pixels (flattened n, h, w), channels-last, stride 1, C in == C out
    pid = tl.program_id(0)
    offs_p = pid * BLOCK_P + tl.arange(0, BLOCK_P)
    offs_c = tl.arange(0, BLOCK_C)
    P = NB * H * W
    mask_p, mask_c = offs_p < P, offs_c < C
    w_i = offs_p % W
    h_i = (offs_p // W) % H
    y = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float32)
    for tap in range(9):  # grouped 3x3 as block-diagonal implicit GEMM, one tl.dot per tap
        dh = tap // 3 - 1
        dw = tap % 3 - 1
        hh, ww = h_i + dh, w_i + dw
        inside = mask_p & (hh >= 0) & (hh < H) & (ww >= 0) & (ww < W)
        src = offs_p + dh * W + dw
        xs = tl.load(x_ptr + src[:, None] * C + offs_c[None, :], mask=inside[:, None] & mask_c[None, :], other=0.0)
        wk = tl.load(wc_ptr + tap * C * C + offs_c[:, None] * C + offs_c[None, :],
                     mask=mask_c[:, None] & mask_c[None, :], other=0.0)
        y += tl.dot(xs, wk)
    y += tl.load(bc_ptr + offs_c, mask=mask_c, other=0.0).to(tl.float32)[None, :]
    out_mask = mask_p[:, None] & mask_c[None, :]
    residual = tl.load(x_ptr + offs_p[:, None] * C + offs_c[None, :], mask=out_mask, other=0.0).to(tl.float32)
    b2 = tl.load(b2_ptr + offs_c, mask=mask_c, other=0.0).to(tl.float32)
    acc = residual + b2[None, :]
    acc = ffn_tile(y.to(x_ptr.dtype.element_ty), acc, u_ptr, b1_ptr, v_ptr, R, C, offs_c, offs_c, mask_c, mask_c,
                   BLOCK_R, BLOCK_C, BLOCK_C)
    tl.store(out_ptr + offs_p[:, None] * C + offs_c[None, :], acc.to(out_ptr.dtype.element_ty), mask=out_mask)



def autotuned(kernel):  # noqa: ANN001, ANN201
    """GPU tile sizes, every block >= 16 so tl.dot compiles."""
    configs = [triton.Config({"BLOCK_P": p, "BLOCK_R": r}, num_warps=w)
               for p, r, w in ((64, 16, 4), (64, 32, 4), (128, 32, 4), (128, 64, 8), (32, 16, 2))]
    return triton.autotune(configs=configs, key=["C", "R"])(kernel)


ffn_kernel_tuned = autotuned(ffn_kernel)
convfirst_kernel_tuned = autotuned(convfirst_kernel)
