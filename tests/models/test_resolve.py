"""Model resolution: offline torchvision builders, input shapes, clear errors for callables."""
from __future__ import annotations

import pytest
from torch import nn

from intensity.models import resolve_model


def needs_arguments(width: int) -> nn.Module:
    return nn.Linear(width, width)


def raises() -> nn.Module:
    raise RuntimeError("no checkpoint here")


def returns_a_number() -> int:
    return 3


NOT_CALLABLE = 42


def test_segmentation_builds_offline_with_its_aux_head_and_published_input():
    resolved = resolve_model("torchvision:deeplabv3_resnet50", meta=True)  # no download attempted
    assert resolved.input_shape == (3, 520, 520)
    assert resolved.module.aux_classifier is not None


def test_detection_builds_offline_and_takes_800x800_images():
    resolved = resolve_model("torchvision:fasterrcnn_mobilenet_v3_large_fpn", meta=True)
    assert resolved.input_shape == (3, 800, 800)


@pytest.mark.parametrize("name, shape", [("torchvision:resnet18", (3, 224, 224)),
                                         ("torchvision:inception_v3", (3, 299, 299)),
                                         ("torchvision:quantized_resnet18", (3, 224, 224))])
def test_classification_input_is_the_published_crop(name, shape):
    assert resolve_model(name, meta=True).input_shape == shape


@pytest.mark.parametrize("attribute, message", [
    ("needs_arguments", r"needs_arguments needs arguments \(width\) .* wrapper function"),
    ("raises", r"raises\(\) raised RuntimeError: no checkpoint here \(in .*test_resolve.py\); fix the callable"),
    ("returns_a_number", "returned int, not a torch.nn.Module"),
    ("NOT_CALLABLE", "is of type int, not an nn.Module or a function"),
    ("missing", "has no attribute 'missing'"),
])
def test_module_callable_errors_name_the_callable_and_the_fix(attribute, message):
    with pytest.raises(ValueError, match=message):
        resolve_model(f"tests.models.test_resolve:{attribute}", meta=True)
