"""Capture that does not give up: isolated attempts, the real-tensor fallback, quiet failures."""
from __future__ import annotations

import logging

import pytest
import torch
from torch import nn

from intensity import analyze
from intensity.cost.counter import capture
from intensity.errors import ModelRunError


class CachesThenNeedsReal(nn.Module):
    """Caches a tensor on itself during forward, then reads a value: fails on meta and fake."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.cache: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.cache is None:  # a meta or fake tensor here would break every later attempt
            self.cache = torch.zeros(1, 8, 1, 1, device=x.device, dtype=x.dtype)
        scale = float(x.abs().max().item() > -1)  # always 1.0; needs a real value
        return self.conv(x) * scale + self.cache


def build_caches_then_needs_real() -> nn.Module:
    """For the `module:callable` form: tests.cost.test_capture_fallback:build_caches_then_needs_real."""
    return CachesThenNeedsReal()


def test_failed_meta_and_fake_attempts_leave_nothing_behind():
    model = CachesThenNeedsReal()
    trace = capture(model, (2, 3, 8, 8))
    assert trace.capture == "real"
    assert model.cache is None  # attempts ran on copies of the module tree
    assert [n.split(":")[0] for n in trace.notes[:2]] == ["could not run on meta tensors",
                                                         "could not run on fake tensors"]


def test_api_rebuilds_a_meta_built_model_with_real_weights_for_the_real_run():
    report = analyze("tests.cost.test_capture_fallback:build_caches_then_needs_real", batch=2,
                     input_shape=(3, 8, 8))
    assert report.capture == "real"
    assert "built the model with real (random) weights for the real-tensor run" in report.notes
    # conv: 2 * batch 2 * 6x6 outputs * 8 channels * (3*3*3) = 31,104 flops
    assert report.totals.flops == 2 * 2 * 36 * 8 * 27


def test_a_model_on_meta_without_a_real_build_names_the_reason():
    with torch.device("meta"):
        model = CachesThenNeedsReal()
    with pytest.raises(ModelRunError, match="no real build was given"):
        capture(model, (1, 3, 8, 8))


def test_a_wrong_input_shape_is_one_quiet_line(capfd):
    with pytest.raises(ModelRunError) as raised:  # noscope-coral's fc expects 50x50 inputs
        analyze("noscope-coral", input_shape=(3, 30, 30))
    message = str(raised.value)
    assert "\n" not in message and "check `input_shape`" in message and "(1, 3, 30, 30)" in message
    assert capfd.readouterr().err == ""  # torch's fake-tensor log used to print 18 lines
    assert logging.root.manager.disable == logging.NOTSET  # logging is switched back on


def test_unknown_capture_mode_and_attention_model_are_clear_errors():
    with pytest.raises(ValueError, match="unknown capture mode"):
        capture(nn.Identity(), (1, 3), modes=["metal"])
    with pytest.raises(ValueError, match="choose flash .* or math"):
        analyze(nn.Identity(), input_shape=(3,), attention="fast")


class Restrided(nn.Module):
    """permute, then an in-place restride (as_strided_): neither moves data."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.permute(0, 2, 3, 1)
        y.as_strided_(y.shape, y.stride())
        y.transpose_(1, 2)
        return y * 2


def test_views_and_restrides_are_free_not_uncounted():
    report = analyze(Restrided(), batch=2, input_shape=(3, 4, 5), fusion="none")
    assert report.uncounted == []
    # one kernel, the multiply: reads 2*3*4*5 = 120 floats, writes 120: 960 bytes
    assert [(k.op, k.bytes) for k in report.kernels] == [("mul", 960)]


class TakesImages(nn.Module):
    """Takes a list of CxHxW images, as torchvision's detection models do."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1, bias=False)

    def forward(self, images: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack([self.conv(image[None])[0] for image in images])


def test_image_list_feeds_batch_separate_images():
    report = analyze(TakesImages(), batch=3, input_shape=(3, 2, 2), image_list=True, fusion="none")
    convs = [k for k in report.kernels if k.op == "conv"]
    # three 1x1 convs on 1x3x2x2 images: 2 * 4 pixels * 4 * 3 = 96 flops each
    assert [k.flops for k in convs] == [96, 96, 96] and report.capture == "meta"


def test_overlapping_quiet_blocks_in_threads_switch_logging_back_on():
    import threading

    from intensity.cost.counter import _quiet
    inside, release = threading.Event(), threading.Event()

    def worker():
        with _quiet():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    with _quiet():  # A enters, B enters, A leaves first, B last: logging must end on again
        thread.start()
        inside.wait(5)
    release.set()
    thread.join()
    assert logging.root.manager.disable == logging.NOTSET
