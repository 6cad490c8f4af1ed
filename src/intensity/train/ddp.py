"""Data-parallel training with torch.distributed (seed 002 ch. 3: synchronous data parallelism).

Started by torchrun, which sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT:
    torchrun --standalone --nproc_per_node=2 -m intensity.train MODEL --data ... --out RUN
    torchrun --standalone --nproc_per_node=8 -m intensity.train MODEL --device cuda ...  (one per GPU)
The process-group backend follows the device each rank actually trains on (train/device.py):
nccl for GPUs, each rank on cuda:LOCAL_RANK; gloo on the CPU (nccl takes CUDA tensors only).
Every rank draws the same shuffle (so the same folded groups) and takes its DistributedSampler
share; DDP averages the gradients; only rank 0 writes checkpoints and
metrics. Each rank's --batch is its own share: the global batch is batch x world size.
"""
from __future__ import annotations

import datetime
import functools
import os

from intensity.train.device import Placement, placement
from intensity.train.loop import TrainConfig, TrainResult, train


def process_group_backend(place: Placement) -> str:
    """nccl for a GPU rank, gloo for a CPU rank: chosen from the device the rank trains on."""
    return "nccl" if place.device.kind == "cuda" else "gloo"


def distributed_train(config: TrainConfig, timeout_s: float = 300, progress=None) -> TrainResult:  # noqa: ANN001
    """Train under an initialised-here process group when WORLD_SIZE > 1, else as one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return train(config, progress)
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    place = placement(config.device, config.amp, config.loader_workers, world)  # this rank's own device
    gpu = place.device.torch_device if place.device.kind == "cuda" else None
    if gpu is not None:
        torch.cuda.set_device(gpu)  # before the group starts: nccl binds each rank to its GPU
    dist.init_process_group(process_group_backend(place), timeout=datetime.timedelta(seconds=timeout_s),
                            device_id=gpu)
    try:
        rank = dist.get_rank()
        wrap = functools.partial(DistributedDataParallel, device_ids=None if gpu is None else [gpu.index])
        result = train(config, progress if rank == 0 else None, rank, world, wrap)
        dist.barrier()
        return result
    finally:
        dist.destroy_process_group()
