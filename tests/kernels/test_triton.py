"""Triton kernels == the PyTorch reference, in the Triton interpreter on CPU (small shapes).

The interpreter must be chosen before triton is imported, and other tests may already have
imported it (torch.compile does), so the comparisons run in a fresh subprocess.
"""
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from intensity.kernels import FusedConvFirst, triton_kernels
from intensity.models.layers import ConvFirst

pytestmark = pytest.mark.skipif(not triton_kernels.available(), reason="Triton is not installed")

SCRIPT = textwrap.dedent("""
    import os
    os.environ["TRITON_INTERPRET"] = "1"
    import torch
    from torch import nn
    from intensity.kernels import FusedConvFirst, triton_kernels as tk
    from intensity.kernels.reference import ffn_chunked
    from intensity.models.layers import ConvFirst

    torch.manual_seed(0)
    worst = 0.0
    def compare(got, want):
        global worst
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
        worst = max(worst, (got - want).abs().max().item())

    # FFN: (pixels, C, alpha, out channels, residual); ragged pixel tiles and hidden chunks
    for p, c, alpha, o, res in [(50, 8, 1, 8, False), (37, 16, 3, 16, True), (64, 24, 6, 24, True), (20, 16, 2, 32, False)]:
        x, w1, b1 = torch.randn(p, c), torch.randn(alpha * c, c), torch.randn(alpha * c)
        w2, b2 = torch.randn(o, alpha * c), torch.randn(o)
        r = torch.randn(p, o) if res else None
        want = ffn_chunked(x, w1, b1, w2, b2, out=r.clone() if res else None)
        compare(tk.ffn(x, w1, b1, w2, b2, r), want)

    # ConvFirst stride 1: (C, alpha, N, H, W) with BN statistics that are not the identity
    for c, alpha, n, h, w in [(8, 1, 1, 3, 5), (16, 3, 2, 5, 7), (24, 6, 1, 4, 4), (32, 2, 1, 6, 3)]:
        block = ConvFirst(c, c, alpha).eval()
        for m in block.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5); m.running_var.uniform_(0.5, 2.0)
                m.weight.data.uniform_(0.5, 1.5); m.bias.data.uniform_(-0.5, 0.5)
        x = torch.randn(n, c, h, w)
        with torch.no_grad():
            compare(tk.convfirst(x, FusedConvFirst(block)), block(x))
    print("OK", worst)
""")


def test_triton_kernels_equal_reference_in_interpreter():
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("OK")


def test_unsupported_shapes_are_named_never_computed():
    stride2 = FusedConvFirst(ConvFirst(8, 16, 2, stride=2).eval())
    assert "stride 2" in triton_kernels.convfirst_unsupported(torch.zeros(1, 8, 4, 4), stride2)
    with pytest.raises(ValueError, match="cannot run this block: stride 2"):
        triton_kernels.convfirst(torch.zeros(1, 8, 4, 4), stride2)
    wide_groups = ConvFirst(16, 16, 2).eval()
    wide_groups.conv = torch.nn.Conv2d(16, 16, 3, padding=1, groups=1, bias=False)  # group width 16
    reason = triton_kernels.convfirst_unsupported(torch.zeros(1, 16, 4, 4), FusedConvFirst(wide_groups))
    assert "group width 16" in reason
    ok = FusedConvFirst(ConvFirst(16, 16, 2).eval())
    assert "does not match 16 channels" in triton_kernels.convfirst_unsupported(torch.zeros(1, 8, 4, 4), ok)
    with pytest.raises(ValueError, match="do not chain"):
        triton_kernels.ffn(torch.zeros(4, 8), torch.zeros(16, 4), torch.zeros(16), torch.zeros(8, 16), torch.zeros(8))


def test_cpu_tensors_without_interpreter_get_a_clear_error(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="need CUDA tensors, or TRITON_INTERPRET=1"):
        triton_kernels.ffn(torch.zeros(4, 8), torch.zeros(16, 8), torch.zeros(16), torch.zeros(8, 16), torch.zeros(8))
