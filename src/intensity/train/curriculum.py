"""Curriculum learning for FoldedCNNs (seed 000 4.2): start with I classes, add Delta every E epochs.
Defaults: I = max(f, floor(C_L / 10)), Delta = floor(C_L / 10), E = 60 (5.1)."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Curriculum:
    num_classes: int
    initial: int
    delta: int
    every: int

    @classmethod
    def seed_default(cls, num_classes: int, f: int, initial: int | None = None, delta: int | None = None,
                     every: int = 60) -> Curriculum:
        tenth = num_classes // 10
        start = max(f, tenth) if initial is None else initial
        step = tenth if delta is None else delta
        if every < 1 or start < 1:
            raise ValueError(f"curriculum needs initial classes >= 1 and every >= 1 epochs, got {start}, {every}")
        return cls(num_classes, min(start, num_classes), step, every)

    def classes_at(self, epoch: int) -> int:
        """Classes in use at `epoch` (0-based): the first I, plus Delta per E epochs done."""
        if self.delta <= 0:
            return self.initial if self.initial < self.num_classes else self.num_classes
        return min(self.num_classes, self.initial + self.delta * (epoch // self.every))

    def check_reaches_all(self, epochs: int) -> None:
        """Refuse a curriculum that still leaves classes out in the last of `epochs` epochs: such a
        run would end as a classifier of the first few classes (the seed's E = 60 with 10 epochs
        never leaves its first stage)."""
        reached = self.classes_at(epochs - 1)
        if reached >= self.num_classes:
            return
        stages = -(-(self.num_classes - self.initial) // self.delta) if self.delta > 0 else None
        need = f"needs --epochs > {stages * self.every}" if stages else "never adds a class (--delta 0)"
        raise ValueError(f"the curriculum reaches only {reached} of {self.num_classes} classes by the last of "
                         f"{epochs} epochs (I = {self.initial}, Delta = {self.delta}, every {self.every} epochs "
                         f"{need}); give a smaller --every, more --epochs, a larger --delta/--initial, or "
                         f"--no-curriculum")

    def state_dict(self) -> dict:
        return asdict(self)


def all_classes(num_classes: int) -> Curriculum:
    return Curriculum(num_classes, num_classes, 0, 1)
