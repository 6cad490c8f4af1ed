"""Distillation (seed 000 5.4, Ba & Caruana): the folded student learns each image's soft targets."""
from __future__ import annotations

import torch
from torch.nn import functional as F


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor,
                      temperature: float = 4.0, weight: float = 0.9, label_smoothing: float = 0.0) -> torch.Tensor:
    """weight * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - weight) * CE(labels).

    The T^2 keeps the soft term's gradients on the scale of the hard term (Hinton et al.)."""
    if temperature <= 0 or not 0 <= weight <= 1:
        raise ValueError(f"temperature must be > 0 and weight in [0, 1]; got {temperature}, {weight}")
    soft = F.kl_div(F.log_softmax(student / temperature, 1), F.log_softmax(teacher / temperature, 1),
                    reduction="batchmean", log_target=True)
    return weight * temperature**2 * soft + (1 - weight) * F.cross_entropy(student, labels,
                                                                      label_smoothing=label_smoothing)
