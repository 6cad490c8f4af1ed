"""Device backends: the registry, device parsing and its errors, the one timer, memory, threads, amp."""
from __future__ import annotations

import time

import pytest
import torch

from intensity.hardware.backends import (
    AMP_DTYPES, BACKENDS, Backend, CpuBackend, Device, backend_status, default_device, register_backend,
    select_device,
)

NO_CUDA = not torch.cuda.is_available()


def test_the_registry_holds_cpu_and_cuda_with_descriptions():
    assert {"cpu", "cuda"} <= set(BACKENDS.names())
    assert all(BACKENDS[name].description for name in BACKENDS)
    with pytest.raises(ValueError, match="registered twice"):
        register_backend(CpuBackend)


@pytest.mark.parametrize("text", ["cpu", " CPU ", "cpu:0", torch.device("cpu")])
def test_cpu_spellings_select_the_one_cpu_device(text):
    device = select_device(text)
    assert isinstance(device, Device) and device.kind == "cpu" and str(device) == "cpu"
    assert select_device(device) is device  # a Device passes through


@pytest.mark.skipif(not NO_CUDA, reason="checks the default without a GPU")
def test_default_is_the_cpu_without_a_gpu():
    assert str(default_device()) == "cpu" == str(select_device(None))


@pytest.mark.parametrize(("text", "message"), [
    ("tpu", r"unknown `device` 'tpu'; choose one of cpu, cuda"),
    ("cuda:x", r"`device` 'cuda:x': the device index must be a number, e.g. cuda:0"),
    ("", r"unknown `device` ''"),
])
def test_bad_device_strings_are_one_clear_value_error(text, message):
    with pytest.raises(ValueError, match=message):
        select_device(text)


@pytest.mark.skipif(not NO_CUDA, reason="checks the message given without a GPU")
def test_cuda_without_a_gpu_names_the_option_the_reason_and_the_fix():
    with pytest.raises(ValueError, match=r"`on` cuda:1: no CUDA device is visible .*; use --on cpu"):
        select_device("cuda:1", option="on")
    reasons = {name: reason for name, _, reason in backend_status()}
    assert reasons["cpu"] is None and "no CUDA device" in reasons["cuda"]


def test_a_device_index_out_of_range_lists_the_devices_there_are(twin_backend):
    assert select_device("twin").torch_device.index == 0  # a bare name: the current device
    with pytest.raises(ValueError, match=r"`device` twin:2: this machine has 2 twin device\(s\), twin:0 to twin:1"):
        select_device("twin:2")


def test_the_cpu_timer_counts_every_repeat_in_wall_seconds():
    device = select_device("cpu")
    calls = []
    seconds = device.seconds(lambda: (calls.append(1), time.sleep(0.01)), repeats=3)
    assert len(calls) == 3 and 0.03 <= seconds < 1.0  # 3 sleeps of 10 ms, never less
    with device.stopwatch() as lap:
        time.sleep(0.02)
    assert 0.02 <= lap.seconds < 1.0
    device.synchronize()  # a no-op on the CPU, but callable


def test_cpu_memory_figures_say_what_is_not_tracked():
    memory = select_device("cpu").memory()
    assert memory.peak_allocated is None and memory.total > 2**20
    assert "peak RSS" in memory.note
    select_device("cpu").reset_peak_memory()  # nothing to reset: no error


def test_threads_are_fixed_inside_and_restored_after():
    before = torch.get_num_threads()
    with select_device("cpu").threads(1) as used:
        assert used == 1 == torch.get_num_threads()
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="`threads` must be a positive number"):
        with select_device("cpu").threads(0):
            pytest.fail("0 threads were accepted")


def test_cpu_name_is_the_processor():
    assert "cores" in select_device("cpu").name()


def test_amp_is_refused_on_the_cpu_with_the_reason():
    cpu = select_device("cpu")
    assert cpu.amp_dtype(None) is None
    with pytest.raises(ValueError, match=r"`amp` bf16 on cpu: mixed precision .*drop --amp\) or use --device cuda"):
        cpu.amp_dtype("bf16")
    with pytest.raises(ValueError, match=r"unknown `amp` 'int8'; choose one of bf16, fp16"):
        cpu.amp_dtype("int8")
    assert set(AMP_DTYPES) == {"bf16", "fp16"}


@pytest.mark.gpu
def test_cuda_device_times_with_events_and_reports_memory():
    device = select_device("cuda:0")
    assert device.kind == "cuda" and device.torch_device.index == 0 and device.backend.pin_memory
    device.reset_peak_memory()
    a = torch.randn(2048, 2048, device=device.torch_device)
    seconds = device.seconds(lambda: a @ a, repeats=5)
    memory = device.memory()
    assert 0 < seconds < 5 and memory.peak_allocated >= a.numel() * 4 and memory.total > memory.peak_allocated
    assert device.amp_dtype("fp16") is torch.float16
    count = torch.cuda.device_count()
    with pytest.raises(ValueError, match=f"this machine has {count} cuda device"):
        select_device(f"cuda:{count}")
    assert str(default_device()).startswith("cuda")
