"""Fusion policies: which bytes cross DRAM (hand arithmetic on tiny models)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from intensity import analyze


class Block(nn.Module):
    """x -> conv3x3 -> bn -> relu -> conv3x3 -> bn -> (+ x) -> relu: a ResNet basic block."""

    def __init__(self, channels: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + x)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 1)
        self.blocks = nn.Sequential(Block(), Block())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))


A = 2 * 4 * 8 * 8  # one activation tensor: batch 2, 4 channels, 8x8 = 512 elements
W = 4 * 4 * 9  # one 3x3 conv weight = 144
BN = 4 * 4  # weight, bias, running mean and var of 4 channels


def test_none_policy_every_op_reads_and_writes():
    report = analyze(Block(), batch=2, input_shape=(4, 8, 8), fusion="none")
    assert [k.op for k in report.kernels] == ["conv", "norm", "act", "conv", "norm", "add", "act"]
    # conv: A + W in, A out; bn: A + BN in, A out; relu: A in, A out; add: 2A in, A out
    elements = [(k.input_elements, k.weight_elements, k.output_elements) for k in report.kernels]
    assert elements == [(A, W, A), (A, BN, A), (A, 0, A), (A, W, A), (A, BN, A), (2 * A, 0, A), (A, 0, A)]


def test_trivial_policy_fuses_bn_relu_and_residual_into_the_conv():
    report = analyze(Block(), batch=2, input_shape=(4, 8, 8))
    first, second = report.kernels
    assert first.fused == ["batch_norm", "relu"] and second.fused == ["batch_norm", "add", "relu"]
    assert (first.input_elements, first.weight_elements, first.output_elements) == (A, W + BN, A)
    # the residual add reads x from DRAM a second time (it was written by the previous kernel)
    assert (second.input_elements, second.weight_elements, second.output_elements) == (2 * A, W + BN, A)


def test_trivial_policy_keeps_a_gate_multiply_separate():
    class Gated(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.conv(x)
            return y * torch.sigmoid(y.mean((2, 3), keepdim=True))

    kinds = [k.op for k in analyze(Gated(), batch=2, input_shape=(4, 8, 8)).kernels]
    assert kinds == ["conv", "reduce", "act", "mul"]


def test_block_policy_counts_only_block_inputs_outputs_and_weights():
    report = analyze(Net(), batch=2, input_shape=(3, 8, 8), fusion="block", blocks=["Block"])
    assert [(k.name, k.op) for k in report.kernels] == [("stem", "conv"), ("blocks.0", "Block"),
                                                        ("blocks.1", "Block")]
    block = report.kernels[1]
    assert (block.input_elements, block.weight_elements, block.output_elements) == (A, 2 * (W + BN), A)
    assert block.flops == 2 * (2 * A * 4 * 9)  # two convs: 2 * outputs * (4 * 3 * 3) MACs each


def test_block_policy_by_path_pattern_matches_class_name_result():
    by_class = analyze(Net(), batch=2, input_shape=(3, 8, 8), fusion="block", blocks=["Block"])
    by_path = analyze(Net(), batch=2, input_shape=(3, 8, 8), fusion="block", blocks=["blocks.*"])
    assert by_class.totals.to_dict() == by_path.totals.to_dict()


def test_fusion_preserves_flops_and_lowers_traffic():
    reports = [analyze(Net(), batch=2, input_shape=(3, 8, 8), fusion=f, blocks=["Block"] if f == "block" else [])
               for f in ("none", "trivial", "block")]
    assert len({r.totals.flops for r in reports}) == 1
    none, trivial, block = (r.totals.bytes for r in reports)
    assert none > trivial > block


def test_block_policy_errors():
    with pytest.raises(ValueError, match="needs `blocks`"):
        analyze(Net(), input_shape=(3, 8, 8), fusion="block")
    with pytest.raises(ValueError, match="no module matches `blocks` Nope; module classes in this "
                                         "model: BatchNorm2d, Block, Conv2d, Sequential"):
        analyze(Net(), input_shape=(3, 8, 8), fusion="block", blocks=["Nope"])
    with pytest.raises(ValueError, match="unknown fusion policy"):
        analyze(Net(), input_shape=(3, 8, 8), fusion="all")
    with pytest.raises(ValueError, match="only mean something with `fusion` block"):
        analyze(Net(), input_shape=(3, 8, 8), fusion="trivial", blocks=["Block"])


class NormChain(nn.Module):
    """conv, then an EvoNorm-like chain: y * sigmoid(v * y) / sqrt(var(y) + eps)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.v = nn.Parameter(torch.ones(1, 4, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        gated = y * torch.sigmoid(self.v * y)
        return gated / y.var(dim=(2, 3), keepdim=True).add(1e-5).sqrt()


def test_inductor_policy_makes_each_chain_of_pointwise_ops_one_kernel():
    trivial = analyze(NormChain(), batch=2, input_shape=(4, 8, 8), fusion="trivial")
    inductor = analyze(NormChain(), batch=2, input_shape=(4, 8, 8), fusion="inductor")
    # trivial: conv (+ v * y, sigmoid) | y * sig | var | add | sqrt | divide
    assert [k.op for k in trivial.kernels] == ["conv", "mul", "reduce", "add", "elementwise", "mul"]
    # inductor: the conv stays a library kernel; the gate multiply is one generated kernel; the
    # variance with its add, sqrt and the divide (which also reads the gate's result) another
    assert [k.op for k in inductor.kernels] == ["conv", "mul", "reduce"]
    conv, gate, norm = inductor.kernels
    assert (gate.input_elements, gate.output_elements) == (2 * A, A)  # y and sigmoid(v y) in, product out
    assert (norm.input_elements, norm.output_elements) == (2 * A, A)  # y and the product in, result out
    assert inductor.totals.flops == trivial.totals.flops
    assert inductor.totals.bytes < trivial.totals.bytes


def test_inductor_policy_leaves_conv_epilogue_models_as_trivial():
    trivial = analyze(Net(), batch=2, input_shape=(3, 8, 8), fusion="trivial")
    inductor = analyze(Net(), batch=2, input_shape=(3, 8, 8), fusion="inductor")
    assert [k.fused for k in inductor.kernels] == [k.fused for k in trivial.kernels]
    assert inductor.totals.bytes == trivial.totals.bytes


class NormAttention(nn.Module):
    """layer norm -> attention on the normed q, k, v -> scale: the norm and the scale are chains."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(x)
        return torch.nn.functional.scaled_dot_product_attention(y, y, y) * 0.5


def test_inductor_policy_keeps_attention_a_library_kernel():
    # Inductor calls flash attention, it does not generate it: the norm before and the scale after
    # stay kernels of their own, and the attention kernel keeps its flops (4 x 2 x 4 x 4 x 8 = 1024)
    kernels = analyze(NormAttention(), batch=2, input_shape=(4, 8), fusion="inductor").kernels
    assert [k.op for k in kernels] == ["norm", "attention", "mul"]
    assert kernels[1].flops == 4 * 2 * 4 * 4 * 8
