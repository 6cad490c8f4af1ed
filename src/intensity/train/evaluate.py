"""Evaluation of original and folded CNNs on the same images (seed 000 5.1, 5.3)."""
from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field

import torch

from intensity.data.grouping import eval_order, folded_logits
from intensity.train.checkpoint import load_checkpoint, run_checkpoint
from intensity.train.device import Placement, autocast, loader, model_placement, place_model, placement, to_device
from intensity.train.setup import build_model, load_data, model_from_state, normalized


@dataclass
class Accuracy:
    top1: float
    images: int
    per_class: dict[int, float] = field(default_factory=dict)


@torch.no_grad()
def predictions(model: torch.nn.Module, data: torch.utils.data.Dataset, f: int, batch: int = 256,
                seed: int = 0, place: Placement | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted, true) classes over all images, in fixed random groups of f (batch rounded to a
    multiple of f so groups never straddle batches; the last group is padded, padding dropped).
    Batches run where `place` says (default: on the model's device, fp32); results on the CPU."""
    model.eval()
    place = place or model_placement(model)
    batch = max(f, batch // f * f)
    predicted, true = [], []
    for images, labels in loader(data, eval_order(len(data), seed), batch, place):
        with autocast(place):
            predicted.append(folded_logits(model, *to_device(place, images), f).argmax(1).cpu())
        true.append(labels)
    return torch.cat(predicted), torch.cat(true)


def accuracy(model: torch.nn.Module, data: torch.utils.data.Dataset, f: int, batch: int = 256,
             seed: int = 0, place: Placement | None = None) -> Accuracy:
    if len(data) == 0:
        raise ValueError("no images to evaluate on; give a dataset with a test split")
    predicted, true = predictions(model, data, f, batch, seed, place)
    right = predicted == true
    per_class = {int(c): float(right[true == c].float().mean()) for c in true.unique()}
    return Accuracy(float(right.float().mean()), len(true), per_class)


@torch.no_grad()
def order_sensitivity(model: torch.nn.Module, images: torch.Tensor, f: int, max_orders: int = 24,
                      seed: int = 0) -> float:
    """Seed 000 5.3: the share of images whose prediction is the same in all f! orders of its group
    (a random sample of `max_orders` orders when f! is larger). `images` are (N, C, H, W), grouped
    consecutively; a partial last group is left out."""
    model.eval()
    groups = images[: images.shape[0] // f * f].reshape(-1, f, *images.shape[1:])
    orders = list(itertools.permutations(range(f)))
    if math.factorial(f) > max_orders:
        orders = [orders[0], *random.Random(seed).sample(orders[1:], max_orders - 1)]
    per_order = []
    for order in orders:
        logits = folded_logits(model, groups[:, list(order)].flatten(0, 1), f).reshape(groups.shape[0], f, -1)
        back = torch.empty_like(logits)
        back[:, list(order)] = logits
        per_order.append(back.argmax(2))
    stacked = torch.stack(per_order)  # (orders, groups, f)
    return float((stacked == stacked[0]).all(0).float().mean())




def evaluate_checkpoints(paths: list[str], data: str, batch: int = 256, max_orders: int = 24, *,
                         device: str | None = None, amp: str | None = None, loader_workers: int = 0) -> list[dict]:
    """Each checkpoint's top-1 on the same test images (per class too) and, folded, its order
    sensitivity over the first groups of the fixed evaluation order; run on `device` (default:
    the GPU when present, else the CPU) with optional `amp` autocast."""
    place = placement(device, amp, loader_workers)
    records, splits = [], None
    for path in (str(run_checkpoint(p)) for p in paths):
        state = load_checkpoint(path)
        model, shape = model_from_state(state), tuple(state["input_shape"])
        place_model(model, place)
        splits = splits or load_data(data, shape, state["config"]["per_class"], state["config"]["seed"])
        if len(splits.classes) != state["num_classes"]:
            raise ValueError(f"data {data} has {len(splits.classes)} classes but {path} ({state['model_name']}) "
                             f"has {state['num_classes']}; evaluate on data with the model's classes")
        test = normalized(splits.test, state.get("normalize"))  # the run's own input statistics
        result = accuracy(model, test, state["f"], batch, place=place)
        stable = None
        if state["f"] > 1:
            order = eval_order(len(test))[:256]
            images, = to_device(place, torch.stack([test[i][0] for i in order]))
            with autocast(place):
                stable = order_sensitivity(model, images, state["f"], max_orders)
        records.append({"checkpoint": path, "model": state["model_name"], "f": state["f"], "images": result.images,
                        "top1": result.top1, "per_class": result.per_class, "order_stable": stable,
                        "device": str(place.device)})
    return records
