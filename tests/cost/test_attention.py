"""Attention as one flash kernel (default) or as its unfused math (attention="math")."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from intensity import analyze

# timm vit_small_patch16_224, one attention call: B=1, H=6 heads, L=197 tokens, d=384/6=64.
#   flops = 4 B H Lq Lk d = 4 * 1 * 6 * 197 * 197 * 64 = 59,610,624 (Q K^T and P V)
#   bytes = (q + k + v read + out written) = 4 * (6*197*64 = 75,648 floats) * 4 B = 1,210,368
VIT_ATTENTION_FLOPS = 59_610_624
VIT_ATTENTION_BYTES = 1_210_368


def test_vit_small_attention_is_one_flash_kernel_per_block():
    report = analyze("timm:vit_small_patch16_224")
    attention = [k for k in report.kernels if k.op == "attention"]
    assert [k.name for k in attention] == [f"blocks.{i}.attn" for i in range(12)]
    assert {(k.flops, k.bytes) for k in attention} == {(VIT_ATTENTION_FLOPS, VIT_ATTENTION_BYTES)}
    assert not report.uncounted and report.capture == "meta"
    assert any("flash-attention: 12 fused kernels" in note for note in report.notes)


def test_vit_small_math_attention_materialises_the_scores():
    flash = analyze("timm:vit_small_patch16_224")
    math = analyze("timm:vit_small_patch16_224", attention="math")
    assert not [k for k in math.kernels if k.op == "attention"]
    block0 = [k for k in math.kernels if k.name == "blocks.0.attn"]
    # scores: 6 x 197 x 197 = 232,854 floats = 931,416 bytes, written by Q K^T, read by softmax
    assert [k.op for k in block0][:3] == ["mul", "matmul", "softmax"]
    assert block0[1].output_bytes == 931_416 and block0[2].input_bytes == 931_416
    assert math.totals.flops == flash.totals.flops  # the same MACs, more traffic
    assert math.totals.bytes > flash.totals.bytes


@pytest.mark.slow  # ~10 s: builds the model with real weights and runs it
def test_vit_small_flops_equal_torch_flop_counter():
    from intensity.models import resolve_model

    from torch.nn.attention import SDPBackend, sdpa_kernel

    model = resolve_model("timm:vit_small_patch16_224").module.eval()
    # FlopCounterMode has no formula for CPU's fused attention op: run the math backend for it
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 224, 224))
    assert analyze(model).totals.flops == counter.get_total_flops()


class Causal(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = x.chunk(3, dim=-1)  # (2, 2, 8, 12) -> three (2, 2, 8, 4) views
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def test_causal_attention_is_half_and_reads_each_of_qkv_once():
    report = analyze(Causal(), batch=2, input_shape=(2, 8, 12))
    (kernel,) = report.kernels
    # 4 B H L S d / 2 = 4 * 2 * 2 * 8 * 8 * 4 / 2 = 2,048; reads q, k, v = all 2*2*8*12 = 384 floats
    assert (kernel.op, kernel.flops) == ("attention", 2_048)
    assert (kernel.input_bytes, kernel.output_bytes) == (384 * 4, 2 * 2 * 8 * 4 * 4)


def test_multihead_attention_fused_path_is_one_kernel():
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, batch_first=True)
    report = analyze(layer, batch=3, input_shape=(5, 16))
    attention = [k for k in report.kernels if k.op == "attention"]
    # B=3, H=2, L=5, d=8: 4 * 3 * 2 * 5 * 5 * 8 = 4,800 flops
    assert [k.flops for k in attention] == [4_800]
    assert not report.uncounted
