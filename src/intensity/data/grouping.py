"""Folded grouping of images (seed 000 5.1): f images per folded input, through fold_inputs /
unfold_outputs (the one folding of data). Training draws new random groups every epoch (a fresh
shuffle, then consecutive f); evaluation uses fixed random groups (a shuffle from a fixed seed).
A final partial group is zero-padded by fold_inputs and its padding dropped by unfold_outputs,
so padding never reaches the loss or the accuracy."""
from __future__ import annotations

import torch
from torch.nn import functional as F

from intensity.transforms.folding import check_factor, fold_inputs, unfold_outputs


def folded_logits(folded: torch.nn.Module, images: torch.Tensor, f: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, K) logits of a folded CNN over consecutive groups of f images."""
    return unfold_outputs(folded(fold_inputs(images, f)), f, images.shape[0])


def folded_loss(folded: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, f: int) -> torch.Tensor:
    """Cross-entropy over the unfolded (N x classes) logits: the mean per-image loss."""
    return F.cross_entropy(folded_logits(folded, images, f), labels)


def epoch_order(n: int, epoch: int, seed: int) -> list[int]:
    """Training: a new random order (so new groups) per epoch, the same on every rank."""
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n, generator=generator).tolist()


def eval_order(n: int, seed: int = 0) -> list[int]:
    """Evaluation: fixed random groups, the same on every call."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(10_007 + seed)).tolist()


def check_batch(batch: int, f: int) -> None:
    f = check_factor(f)
    if f > batch:
        raise ValueError(f"f = {f} is larger than the batch of {batch} images; give a batch of at least f "
                         f"(a multiple of f avoids padding)")
