"""Capture: what the dispatch-level recorder sees, attributes and counts."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from intensity import analyze
from intensity.cost.counter import capture


class Residual(nn.Module):
    """conv -> relu -> functional conv (shared weight) -> + x -> cat -> SE-style gate -> mean."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.gate = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.conv(x))
        y = F.conv2d(y, self.conv.weight, padding=1) + x  # functional call, residual add
        z = torch.cat([x, y], dim=1)  # 8 channels
        g = torch.sigmoid(self.gate(z.mean((2, 3))))  # squeeze-excite gate
        return (z * g[:, :, None, None]).flatten(1)


def test_capture_sees_functional_calls_adds_concat_gates_and_attributes_modules():
    trace = capture(Residual(), (2, 4, 6, 6))
    ops = [(op.op, op.module) for op in trace.ops]
    assert ops == [("convolution", "conv"), ("relu", ""), ("convolution", ""), ("add", ""),
                   ("cat", ""), ("mean", ""), ("addmm", "gate"), ("sigmoid", ""), ("mul", "")]
    assert trace.capture == "meta" and not trace.uncounted


def test_views_move_no_bytes_and_are_not_kernels():
    report = analyze(Residual(), batch=2, input_shape=(4, 6, 6), fusion="none")
    assert "view" not in {k.op for k in report.kernels}
    # the gate's broadcast view g[:, :, None, None] is read as its 2*8 distinct elements
    gate = report.kernels[-1]
    assert (gate.op, gate.input_elements) == ("mul", 2 * 8 * 36 + 2 * 8)


def test_weight_provenance_follows_views_so_linear_is_recognised():
    report = analyze(nn.Linear(16, 4), batch=3, input_shape=(16,), fusion="none")
    (kernel,) = report.kernels
    # addmm(bias, x, weight.t()): weight 4*16 + bias 4 = 68 weight elements; x 3*16; out 3*4
    assert (kernel.op, kernel.weight_elements, kernel.input_elements, kernel.output_elements) == (
        "linear", 68, 48, 12)
    assert (kernel.params, kernel.flops) == (68, 2 * 3 * 16 * 4)


class Twice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.conv(x))


def test_shared_module_is_counted_per_call_and_its_params_once():
    report = analyze(Twice(), batch=1, input_shape=(3, 4, 4))
    # each call: 2 * 16 * 3 * 3 = 288 flops
    assert [k.flops for k in report.kernels] == [288, 288]
    assert [k.name for k in report.kernels] == ["conv", "conv"]
    assert report.totals.params == 12


class NeedsRealTensors(nn.Module):
    """Reads a value (`.item()`), which meta and fake tensors cannot provide."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = float(x.abs().max().item() > -1)  # always 1.0
        return self.conv(x) * scale


def test_model_that_cannot_run_on_meta_falls_back_and_says_so():
    report = analyze(NeedsRealTensors(), batch=2, input_shape=(3, 8, 8))
    assert report.capture == "real"
    assert any("could not run on meta tensors" in note for note in report.notes)
    assert report.totals.flops == 2 * 2 * 36 * 8 * 27  # 2 * batch * 6x6 outputs * 8 * (3*3*3)


class PlainAttributeTensor(nn.Module):
    """A CPU tensor kept as a plain attribute breaks meta tensors but not fake ones."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.offset = torch.ones(1, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + self.offset


def test_fake_tensor_fallback():
    report = analyze(PlainAttributeTensor(), batch=2, input_shape=(3, 4, 4))
    assert report.capture == "fake"
    assert report.totals.flops == 2 * 2 * 16 * 3 * 3


class UsesUnknownOp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.fft.fft2(x).real


def test_unknown_ops_are_listed_as_uncounted_with_call_counts():
    report = analyze(UsesUnknownOp(), batch=1, input_shape=(3, 8, 8))
    uncounted = {u.op: u.calls for u in report.uncounted}
    assert uncounted and all(calls >= 1 for calls in uncounted.values())
    assert any("without a cost formula" in note for note in report.notes)


def test_model_is_left_as_it_was():
    model = Residual().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    analyze(model, batch=4, input_shape=(4, 6, 6))
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_meta_fast_path_changes_nothing_but_speed(monkeypatch):
    from intensity.cost import counter
    from intensity.models import resolve_model

    for name in ("torchvision:mobilenet_v3_small", "timm:ghostnet_100", "torchvision:resnet18"):
        model = resolve_model(name).module
        fast = analyze(model, batch=3, fusion="none").to_dict()
        with monkeypatch.context() as patch:
            patch.setattr(counter, "meta_fast_path", lambda op, args, kwargs: None)
            slow = analyze(model, batch=3, fusion="none").to_dict()
        assert fast == slow, name


class Zoo(nn.Module):
    """Every op family the engine must see: transposed/dilated conv, upsample, adaptive pool, bmm."""

    def __init__(self) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.dilated = nn.Conv2d(4, 4, 3, padding=2, dilation=2)
        self.norm = nn.LayerNorm(16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dilated(self.up(x))  # 4x8x8 -> 4x16x16
        y = F.interpolate(y, scale_factor=0.5, mode="bilinear") + F.adaptive_max_pool2d(y, 8)
        tokens = self.norm(y.reshape(-1, 16, 16))  # (N, 4, 8, 8) -> (N, 16, 16)
        mixed = torch.bmm(tokens, tokens.transpose(1, 2)).softmax(-1) @ tokens
        return F.adaptive_avg_pool2d(mixed.unsqueeze(1), 1).flatten(1)


def test_every_op_family_is_counted():
    report = analyze(Zoo(), batch=2, input_shape=(4, 8, 8), fusion="none")
    assert not report.uncounted
    kinds = {k.op for k in report.kernels}
    assert {"conv", "upsample", "pool", "add", "norm", "matmul", "softmax", "reduce"} <= kinds
    convs = [k.detail for k in report.kernels if k.op == "conv"]
    assert convs == ["transposed 2x2 s2", "standard 3x3 d2"]
    # bmm of (2, 16, 16) @ (2, 16, 16): 2 * 2 * 16^3 = 16,384 flops, twice (scores and mixing)
    assert [k.flops for k in report.kernels if k.op == "matmul"] == [16_384, 16_384]
