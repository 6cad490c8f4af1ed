"""Accelerator specs (published data files, user files, measured), device backends and micro-benchmarks."""
from intensity.hardware.backends import BACKENDS, Device, default_device, select_device
from intensity.hardware.resolve import get_spec
from intensity.hardware.spec import HardwareSpec, list_specs

__all__ = ["BACKENDS", "Device", "HardwareSpec", "default_device", "get_spec", "list_specs", "select_device"]
