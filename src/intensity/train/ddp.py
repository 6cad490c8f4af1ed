"""Data-parallel training with torch.distributed (seed 002 ch. 3: synchronous data parallelism).

Started by torchrun, which sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT:
    torchrun --standalone --nproc_per_node=2 -m intensity.train MODEL --data ... --out RUN
gloo: the trainer runs on the CPU (no GPU training yet), and nccl takes CUDA tensors only.
Every rank draws the same shuffle (so the same folded groups) and takes its DistributedSampler
share; DDP averages the gradients; only rank 0 writes checkpoints and
metrics. Each rank's --batch is its own share: the global batch is batch x world size.
"""
from __future__ import annotations

import datetime
import os

from intensity.train.loop import TrainConfig, TrainResult, train


def distributed_train(config: TrainConfig, timeout_s: float = 300, progress=None) -> TrainResult:  # noqa: ANN001
    """Train under an initialised-here process group when WORLD_SIZE > 1, else as one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return train(config, progress)
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    backend = "gloo"  # not nccl even where CUDA exists: the model and batches stay on the CPU
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    try:
        rank = dist.get_rank()
        result = train(config, progress if rank == 0 else None, rank, world, DistributedDataParallel)
        dist.barrier()
        return result
    finally:
        dist.destroy_process_group()
