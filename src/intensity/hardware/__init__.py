"""Accelerator specs (published data files, user files, measured) and micro-benchmarks."""
from intensity.hardware.resolve import get_spec
from intensity.hardware.spec import HardwareSpec, list_specs

__all__ = ["HardwareSpec", "get_spec", "list_specs"]
