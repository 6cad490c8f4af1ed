"""The `intensity` command: thin commands over the library (see _app for what they share).

Library errors (ValueError, KeyError) and usage errors become a one-line `error: ...` on stderr
and exit code 2.
"""
from intensity.cli import (  # noqa: F401 (each module registers its commands)
    analysis_commands, calibrate_commands, explore_commands, export_commands, fit_commands, fold_commands,
    kernel_commands, measure_commands, train_commands,
)
from intensity.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
