"""The training loop for original (f = 1) and folded CNNs (seed 000 4.2, 5.1, 5.4)."""
from __future__ import annotations

import csv
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from torch import nn

from intensity.data.grouping import check_batch, epoch_order, folded_logits
from intensity.data.normalize import channel_stats, renormalize
from intensity.progress import Progress, notify
from intensity.train.checkpoint import load_checkpoint, restore_rng, save_checkpoint
from intensity.train.curriculum import Curriculum, all_classes
from intensity.train.device import Placement, autocast, grad_scaler, loader, place_model, placement, to_device
from intensity.train.distill import distillation_loss
from intensity.train.evaluate import accuracy
from intensity.train.recipe import DEFAULT_PRESET, PRESETS, Recipe, check_recipe, make_optimizer, resolve, set_lr
from intensity.train.safety import apply_lr, check_loss, check_setting_types, check_weights, resume_settings
from intensity.transforms.fold_init import mask_gradients
from intensity.train.setup import Original, build_model, load_data, model_from_state, normalized  # noqa: F401 (re-exported)

METRICS = ("epoch", "classes", "loss", "train_acc", "val_acc", "images_per_s", "seconds")


@dataclass
class TrainConfig:
    model: str
    data: str  # DIR, generated:TASK, cifar10:DIR, cifar100:DIR or video:VIDEO,CSV
    out: str
    f: int = 1
    epochs: int = 10
    batch: int = 32
    preset: str = DEFAULT_PRESET  # a recipe (train/recipe.py); the fields below left None are its
    lr: float | None = None  # default: the preset's
    seed: int = 0
    per_class: int = 200  # generated data only
    curriculum: bool | None = None  # default: on for folded game models (5.1)
    initial: int | None = None
    delta: int | None = None
    every: int | None = None  # default: the preset's (seed: 60; fast: 4% of the epochs)
    teacher: str | None = None
    temperature: float = 4.0
    weight: float = 0.9
    resume: bool = False
    normalize: bool = True  # per-channel mean/std of the training split (data/normalize.py)
    device: str | None = None  # cpu, cuda, cuda:N (default: the GPU when present, else the CPU)
    amp: str | None = None  # bf16 or fp16 mixed precision (GPU only)
    loader_workers: int = 0  # DataLoader worker processes
    # recipe overrides (None: the preset's; see train/recipe.py)
    optimizer: str | None = None
    weight_decay: float | None = None
    batch_norm: bool | None = None  # train-time batch norms, folded into the weights at export
    init: str | None = None  # default | block-diagonal | separate
    schedule: str | None = None  # constant | cosine
    warmup: float | None = None
    label_smoothing: float | None = None


@dataclass
class TrainResult:
    out: str
    metrics: list[dict] = field(default_factory=list)
    test_acc: float = 0.0
    model: nn.Module | None = None
    device: str = "cpu"  # where it trained
    notes: list[str] = field(default_factory=list)  # e.g. settings a resume applied
    trained: int = 0  # epochs trained by this call (metrics also lists a resumed run's earlier ones)
    placement: str = ""  # the device, its name, precision and loader (Placement.describe)


def _curriculum(config: TrainConfig, recipe: Recipe, classes: int) -> Curriculum:
    """The recipe's curriculum for folded models (or as --curriculum says), with E from --every or
    the recipe; refused when it cannot reach every class before the last epoch."""
    if not (recipe.curriculum and (config.curriculum is not None or config.f > 1)):
        given = [f"--{name}" for name in ("initial", "delta", "every") if getattr(config, name) is not None]
        if given:  # never ignore them silently
            raise ValueError(f"curriculum options {', '.join(given)} need a curriculum, but this run has none (f = {config.f}, "
                             f"preset {config.preset!r}, curriculum {config.curriculum}); give --curriculum "
                             f"too, or leave them out")
        return all_classes(classes)
    every = config.every if config.every is not None else recipe.every_for(config.epochs)
    curriculum = Curriculum.seed_default(classes, config.f, config.initial, config.delta, every)
    curriculum.check_reaches_all(config.epochs)
    return curriculum


class _Run:
    """One training run's state: what a checkpoint holds."""

    def __init__(self, config: TrainConfig, place: Placement, original: Original | None = None) -> None:
        check_batch(config.batch, config.f)
        self.config, self.place, self.notes = config, place, []
        torch.manual_seed(config.seed)
        self.recipe = resolve(config)
        self.model, self.shape, self.classes = build_model(config.model, config.f, config.preset, original,
                                                           self.recipe.batch_norm)
        self.masks = self._init_paths()
        place_model(self.model, place)
        self.masks = {weight: mask.to(weight.device) for weight, mask in self.masks.items()}
        self.scaler = grad_scaler(place)
        self.optimizer = make_optimizer(self.recipe, self.model)
        self.scheduler = torch.optim.lr_scheduler.ConstantLR(self.optimizer, factor=1.0, total_iters=0)
        self.curriculum = _curriculum(config, self.recipe, self.classes)
        self.teacher, self.teacher_norm = _teacher(config.teacher) if config.teacher else (None, None)
        if self.teacher is not None:
            place_model(self.teacher, place)
        self.start, self.metrics, self.norm = 0, [], None

    def _init_paths(self) -> dict:
        """Block-diagonal init of a folded model; with `separate`, the masks that keep its images'
        paths apart for the whole run (transforms/fold_init.py)."""
        if self.recipe.init == "default" or self.config.f == 1:
            return {}
        from intensity.transforms.fold_init import block_diagonal_, block_masks, paths_are_separate

        block_diagonal_(self.model, self.config.f, self.shape)
        if self.recipe.init != "separate":
            return {}
        if paths_are_separate(self.model, self.config.f, self.shape):
            return block_masks(self.model, self.config.f, self.shape)
        why = (f"{self.config.model} mixes the images' channels (a concatenation of folded branches), so its "
               f"image paths cannot be kept separate")
        if self.config.init == "separate":  # asked for by name: refuse rather than train something else
            raise ValueError(f"--init separate: {why}; give --init block-diagonal or default")
        self.notes.append(f"{why}: trained with shared paths (block-diagonal init), as --init block-diagonal")
        return {}

    def state(self, epoch: int) -> dict:
        return {"model_name": self.config.model, "f": self.config.f, "epoch": epoch,
                "input_shape": list(self.shape), "num_classes": self.classes, "config": asdict(self.config),
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "curriculum": self.curriculum.state_dict(),
                "metrics": self.metrics, "normalize": self.norm, "scaler": self.scaler.state_dict()}

    def resume(self, path: Path) -> None:
        state = load_checkpoint(path, self.config.model, self.config.f)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        apply_lr(self.optimizer, self.config.lr)  # a changed --lr on resume (safety.resume_settings)
        self.scheduler.load_state_dict(state["scheduler"])
        self.curriculum = Curriculum(**state["curriculum"])
        self.metrics, self.start = list(state["metrics"]), state["epoch"] + 1
        self.norm = state.get("normalize")
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        restore_rng(state["rng"])


def _teacher(path: str) -> tuple[nn.Module, dict | None]:
    """The teacher model and the input normalization it was trained with."""
    state = load_checkpoint(path)
    if state["f"] != 1:
        raise ValueError(f"teacher {path} is a folded model (f = {state['f']}); give an original (f = 1) run")
    return model_from_state(state), state.get("normalize")


def _step(run: _Run, images: torch.Tensor, labels: torch.Tensor, model: nn.Module) -> tuple[float, int]:
    with autocast(run.place):
        logits = folded_logits(model, images, run.config.f)
        if run.teacher is not None:
            with torch.no_grad():
                soft = run.teacher(renormalize(images, run.norm, run.teacher_norm))
            loss = distillation_loss(logits, soft, labels, run.config.temperature, run.config.weight,
                                     run.recipe.label_smoothing)
        else:
            loss = nn.functional.cross_entropy(logits, labels, label_smoothing=run.recipe.label_smoothing)
    check_loss(loss, len(run.metrics), run.config.lr, run.config.out)
    run.optimizer.zero_grad(set_to_none=True)
    _backward_and_update(run, loss)
    return loss.item() * len(labels), int((logits.argmax(1) == labels).sum())


def _backward_and_update(run: _Run, loss: torch.Tensor) -> None:
    """backward and step, through the fp16 loss scaler (a pass-through without fp16)."""
    run.scaler.scale(loss).backward()
    mask_gradients(run.masks)
    run.scaler.step(run.optimizer)
    run.scaler.update()


def _epoch(run: _Run, data: torch.utils.data.Dataset, epoch: int, model: nn.Module,
           progress: Progress | None, rank: int = 0, world: int = 1) -> dict:
    classes = run.curriculum.classes_at(epoch)
    order = [i for i in epoch_order(len(data), epoch, run.config.seed) if data.targets[i] < classes]
    if world > 1:  # DDP: every rank the same shuffle (same groups), a share padded to equal steps
        sampler = torch.utils.data.DistributedSampler(order, world, rank, shuffle=False)
        sampler.set_epoch(epoch)
        order = [order[i] for i in sampler]
    model.train()
    loss_sum, correct, seen, start, batch = 0.0, 0, 0, time.perf_counter(), run.config.batch
    steps = max(1, -(-len(order) // batch))
    for step, (images, labels) in enumerate(loader(data, order, batch, run.place)):
        set_lr(run.optimizer, run.recipe, (epoch + step / steps) / run.config.epochs)  # per step: warm-up, decay
        loss, right = _step(run, *to_device(run.place, images, labels), model)
        loss_sum, correct, seen = loss_sum + loss, correct + right, seen + len(labels)
        notify(progress, f"epoch {epoch + 1}/{run.config.epochs} loss {loss_sum / seen:.3f} acc {correct / seen:.1%} "
                         f"{seen / (time.perf_counter() - start):.0f} img/s", step + 1, -(-len(order) // batch))
    run.place.device.synchronize()  # wall time of the whole epoch (loading included), queued GPU work done
    seconds = time.perf_counter() - start
    run.scheduler.step()
    images = len(order)
    if world > 1:  # the epoch's figures over all ranks, not rank 0's share
        loss_sum, correct, images = _all_ranks_sum(run.place, loss_sum, correct, images)
    return {"epoch": epoch + 1, "classes": classes, "loss": loss_sum / max(1, images),
            "train_acc": correct / max(1, images), "images_per_s": images / seconds, "seconds": seconds}


def _all_ranks_sum(place: Placement, *values: float) -> list[float]:
    import torch.distributed as dist

    total = torch.tensor(values, dtype=torch.float64, device=place.device.torch_device)  # nccl: on the GPU
    dist.all_reduce(total)
    return total.tolist()


def _write_metrics(out: Path, metrics: list[dict]) -> None:
    with open(out / "metrics.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, METRICS)
        writer.writeheader()
        writer.writerows(metrics)


def check_lr(lr: float | None, advice: str = "give e.g. 1e-4, or leave it out for the preset's") -> None:
    if lr is not None and not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"--lr must be a positive learning rate, got {lr:g}; {advice}")


def check_config(config: TrainConfig) -> None:
    """Numeric settings checked before any data is loaded, naming the option (torch's own messages do not)."""
    check_setting_types(config)
    check_lr(config.lr)
    if config.preset not in PRESETS:
        raise ValueError(f"unknown --preset {config.preset!r}; choose one of {', '.join(PRESETS)}")
    check_recipe(resolve(config))
    if not (config.temperature > 0 and math.isfinite(config.temperature)):
        raise ValueError(f"--temperature must be > 0, got {config.temperature:g}; give e.g. 4")
    if not 0 <= config.weight <= 1:
        raise ValueError(f"--weight must be between 0 and 1 (the distillation term's share), "
                         f"got {config.weight:g}; give e.g. 0.9")
    check_distillation_options(config)


def check_distillation_options(config: TrainConfig) -> None:
    """--temperature/--weight changed without a teacher would be ignored: refuse (a resumed run may
    distill from its checkpoint's teacher)."""
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    changed = [f"--{name}" for name in ("temperature", "weight") if getattr(config, name) != defaults[name]]
    if changed and config.teacher is None and not config.resume:
        raise ValueError(f"distillation options {', '.join(changed)} need --teacher (an original run's "
                         f"last.pt); give it too, or leave them out")


def prepare_out(config: TrainConfig) -> Path:
    out = Path(config.out)
    if config.resume:
        if not (out / "last.pt").is_file():
            raise ValueError(f"nothing to resume in {out} (no last.pt); drop --resume to start a new run")
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"run directory {out} is not empty; give a new --out, or --resume to continue it")
    out.mkdir(parents=True, exist_ok=True)
    return out


def train(config: TrainConfig, progress: Progress | None = None, rank: int = 0, world: int = 1,
          wrap: object = None, original: Original | None = None) -> TrainResult:
    """Train `config.model` folded by f on `config.data`; checkpoint every epoch into `config.out`
    (rank 0 only). `wrap` (DDP) wraps the model for the forward/backward passes. Turns on
    torch.set_flush_denormal for the process (torch has no getter to restore it). `original`
    trains a module built elsewhere (then `config.model` is only its label). The run directory is
    locked while training (a caller in this thread that holds it with `handing_on` lets this through)."""
    check_config(config)
    if rank != 0:
        return _train(config, progress, rank, world, wrap, original)
    from intensity.output import locked

    with locked(config.out, "run directory"):  # a second trainer or `export` of it is refused meanwhile
        return _train(config, progress, rank, world, wrap, original)


def _train(config: TrainConfig, progress: Progress | None, rank: int, world: int, wrap: object,
           original: Original | None) -> TrainResult:
    config, notes = _resumed(config)
    place = placement(config.device, config.amp, config.loader_workers, world)
    # Adam's running mean of a dead ReLU's zero gradient decays into denormals, 3x slower to update.
    torch.set_flush_denormal(True)
    run = _Run(config, place, original)
    data = load_data(config.data, run.shape, config.per_class, config.seed)
    if len(data.classes) != run.classes:
        raise ValueError(f"data {config.data} has {len(data.classes)} classes but {config.model} has "
                         f"{run.classes}; give data with the model's classes")
    out = prepare_out(config) if rank == 0 else Path(config.out)
    if config.resume:
        run.resume(out / "last.pt")
    elif config.normalize:
        mean, std = channel_stats(data.train)
        run.norm = {"mean": mean, "std": std}
    train_data, val, test = (normalized(split, run.norm) for split in (data.train, data.val, data.test))
    model = wrap(run.model) if wrap else run.model
    for epoch in range(run.start, config.epochs):
        row = _epoch(run, train_data, epoch, model, progress, rank, world)
        row["val_acc"] = accuracy(run.model, val, config.f, config.batch, place=place).top1
        run.metrics.append(row)
        if rank == 0:
            check_weights(run.model, epoch)
            save_checkpoint(out / "last.pt", run.state(epoch))
            _write_metrics(out, run.metrics)
    test = accuracy(run.model, test, config.f, config.batch, place=place).top1
    return TrainResult(str(out), run.metrics, test, run.model, str(place.device), notes + run.notes,
                       max(0, config.epochs - run.start), place.describe())


def _resumed(config: TrainConfig) -> tuple[TrainConfig, list[str]]:
    """A resumed run's settings: changed ones applied or refused (train/safety.py), with notes."""
    if not config.resume or not (Path(config.out) / "last.pt").is_file():
        return config, []  # prepare_out says there is nothing to resume
    return resume_settings(config, Path(config.out))
