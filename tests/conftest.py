"""Shared fixtures and the `gpu` marker's skip rule."""
from __future__ import annotations

import pytest
import torch


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def twin_backend(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A fake backend `twin` with two devices (meta tensors), registered for one test: device
    indexing and torchrun's one-device-per-rank rule, checked without hardware."""
    from intensity.hardware.backends import BACKENDS, Backend

    class Twin(Backend):
        name = "twin"
        description = "two fake devices"
        torch_type = "meta"

        def count(self) -> int:
            return 2

    monkeypatch.setitem(BACKENDS._items, "twin", Twin())
    return BACKENDS["twin"]
