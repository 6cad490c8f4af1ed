"""`python -m intensity.train MODEL --data ... --out RUN [--f 2 --epochs N ...]`: the entry point
torchrun starts on every rank (see intensity.train.ddp). Options are TrainConfig's fields."""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from intensity.train.ddp import distributed_train
from intensity.train.device import placement
from intensity.train.loop import TrainConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m intensity.train", description=__doc__)
    parser.add_argument("model")
    for field in dataclasses.fields(TrainConfig):
        if field.name == "model":
            continue
        flag = "--" + field.name.replace("_", "-")
        if field.type in ("bool", "bool | None"):
            parser.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction, default=field.default)
            continue
        kind = {"int": int, "float": float, "float | None": float, "int | None": int}.get(field.type, str)
        required = field.default is dataclasses.MISSING
        parser.add_argument(flag, dest=field.name, type=kind, required=required,
                            default=None if required else field.default)
    return parser


def main(argv: list[str] | None = None) -> int:
    config = TrainConfig(**vars(_parser().parse_args(argv)))
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    try:
        place = placement(config.device, config.amp, config.loader_workers, world)
        if rank == 0:  # the first line: where rank 0 trains (each rank has its own GPU)
            print(f"device: {place.describe()}" + (f"; {world} ranks" if world > 1 else ""), flush=True)
        result = distributed_train(config)
    except (ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if result.metrics and result.model is not None and rank == 0:
        print(f"test top-1 {result.test_acc:.2%}; checkpoint {result.out}/last.pt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
