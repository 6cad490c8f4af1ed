"""Where training and evaluation run: the device, mixed precision, channels-last and the loader.

A `Placement` is resolved once per run from what the user asked (`--device`, `--amp`,
`--loader-workers`) and what the machine has: no device means the GPU when one is present, else
the CPU. Under torchrun every rank takes its own GPU, cuda:LOCAL_RANK. Mixed precision is
torch.autocast (bf16, or fp16 with a GradScaler against gradient underflow), refused on the CPU
with the reason (hardware/backends.py). Channels-last and pinned host memory are used where the
backend says they help (CUDA). Checkpoints hold CPU-loadable tensors: load_checkpoint maps to the CPU.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from intensity.hardware.backends import Device, select_device


@dataclass(frozen=True)
class Placement:
    device: Device
    amp: str | None = None  # bf16 or fp16 autocast; None: fp32
    loader_workers: int = 0  # DataLoader worker processes (0: load in the training process)

    @property
    def amp_dtype(self) -> torch.dtype | None:
        return self.device.amp_dtype(self.amp)

    @property
    def channels_last(self) -> bool:
        return self.device.backend.channels_last

    @property
    def pin_memory(self) -> bool:
        return self.device.backend.pin_memory

    def describe(self) -> str:
        """One line for the first line of output: device, its name, precision, layout, loader."""
        parts = [f"{self.device} ({self.device.name()})", f"{self.amp} mixed precision" if self.amp else "fp32"]
        parts += ["channels-last"] if self.channels_last else []
        parts += [f"{self.loader_workers} loader worker(s)"] if self.loader_workers else []
        return ", ".join(parts)


def placement(device: str | Device | None = None, amp: str | None = None, loader_workers: int = 0,
              world: int = 1) -> Placement:
    """Resolve a run's placement; every bad setting is a ValueError naming its option.

    With `world` > 1 (torchrun) a GPU run uses cuda:LOCAL_RANK, one process per GPU."""
    if loader_workers < 0:
        raise ValueError(f"`loader_workers` must be 0 (load in the training process) or more, got {loader_workers}")
    where = _rank_device(select_device(device), device, world)
    place = Placement(where, amp, loader_workers)
    place.amp_dtype  # noqa: B018 (raises when this device cannot run `amp`)
    return place


def _rank_device(where: Device, asked: str | Device | None, world: int) -> Device:
    """Under torchrun, GPU rank r runs on cuda:LOCAL_RANK (never one GPU for every rank)."""
    if world <= 1 or where.kind == "cpu":
        return where
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if asked is not None and ":" in str(asked) and where.torch_device.index != local:
        raise ValueError(f"`device` {asked}: under torchrun each rank uses its own GPU, cuda:LOCAL_RANK "
                         f"(this rank: cuda:{local}); give --device cuda")
    return select_device(f"{where.kind}:{local}")


def model_placement(model: nn.Module) -> Placement:
    """The placement of a model already on its device (fp32, no loader workers)."""
    parameter = next(model.parameters(), None)
    return Placement(select_device(parameter.device if parameter is not None else "cpu"))


def place_model(model: nn.Module, place: Placement) -> nn.Module:
    """`model` moved to the device, channels-last where that helps (in place; returned for chaining)."""
    model.to(place.device.torch_device)
    if place.channels_last:
        model.to(memory_format=torch.channels_last)
    return model


def autocast(place: Placement) -> contextlib.AbstractContextManager:
    """torch.autocast for the run's mixed precision, or nothing at full precision."""
    dtype = place.amp_dtype
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(place.device.torch_device.type, dtype=dtype)


def grad_scaler(place: Placement) -> torch.amp.GradScaler:
    """Loss scaling for fp16 (whose small gradients underflow); a pass-through otherwise."""
    return torch.amp.GradScaler(place.device.torch_device.type, enabled=place.amp == "fp16")


def loader(data: torch.utils.data.Dataset, order: Sequence[int], batch: int,
           place: Placement) -> torch.utils.data.DataLoader:
    """Batches of `data` in `order` (the caller's shuffle: the folded groups), with the run's
    worker processes and pinned memory on a GPU run."""
    return torch.utils.data.DataLoader(data, batch_size=batch, sampler=list(order), num_workers=place.loader_workers,
                                       pin_memory=place.pin_memory)


def to_device(place: Placement, *tensors: torch.Tensor) -> list[torch.Tensor]:
    """Tensors on the run's device (asynchronous copies from pinned memory)."""
    return [t.to(place.device.torch_device, non_blocking=place.pin_memory) for t in tensors]
