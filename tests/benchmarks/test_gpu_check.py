"""benchmarks/gpu_check.py: on a CPU-only machine every part is skipped with its reason and nothing
is written; each part's process is killed at its limit; the parts themselves run (slow, on the CPU)."""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def _module():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gpu_check = _module()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks what a CPU-only machine reports")
def test_on_the_cpu_every_part_is_skipped_with_its_reason_and_nothing_written(tmp_path):
    results = SCRIPT.parent / "results"
    before = sorted(results.glob("*_gpu.txt"))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(SCRIPT), "--results-dir", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    for part in gpu_check.PARTS:
        assert f"skipped: {part.name}: no CUDA device is visible (torch.cuda.is_available() is False)" in lines
    assert not any(line.startswith(("done:", "failed:")) for line in lines)
    assert not (tmp_path / "out").exists() and sorted(results.glob("*_gpu.txt")) == before
    assert time.perf_counter() - start < 60  # quick: nothing is measured


def test_the_part_limits_fit_in_eight_minutes():
    assert sum(part.limit_s for part in gpu_check.PARTS) < 8 * 60
    assert {part.name for part in gpu_check.PARTS} == set(gpu_check.RUNNERS)


def test_a_part_past_its_limit_is_killed_and_reported():
    start = time.perf_counter()
    # the part starts a sub-command that holds its output pipe: it is killed with the part, or this would wait 30 s
    hang = "import subprocess, time; subprocess.Popen(['sleep', '30']); time.sleep(30)"
    ok, detail, _ = gpu_check.run_child([sys.executable, "-c", hang], 1)
    assert not ok and detail == "over its 1 s limit (killed)" and time.perf_counter() - start < 10
    ok, detail, output = gpu_check.run_child([sys.executable, "-c", "print('figures'); print('wrote x')"], 30)
    assert ok and detail == "wrote x" and output.startswith("figures")
    ok, detail, _ = gpu_check.run_child([sys.executable, "-c", "raise SystemExit('boom')"], 30)
    assert not ok and detail == "boom"


def test_missing_reasons_name_what_is_missing(monkeypatch):
    from intensity.kernels import triton_kernels

    monkeypatch.setattr(triton_kernels, "available", lambda: False)
    assert gpu_check.missing(("triton",)).startswith("Triton is not installed")
    if not torch.cuda.is_available():
        assert "no CUDA device" in gpu_check.missing(("cuda", "triton"))  # the first missing need
        assert "energy unavailable" in gpu_check.missing(("nvml",))


def test_unknown_parts_are_refused():
    with pytest.raises(SystemExit, match=r"unknown part\(s\) bogus; choose from throughput, calibrate"):
        gpu_check.selected("throughput,bogus")
    assert [p.name for p in gpu_check.selected("train,energy")] == ["train", "energy"]


@pytest.mark.slow  # about 2 minutes on 2 busy cores: it measures and trains (on the CPU here)
def test_the_parts_run_and_write_their_results(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check, "DEVICE", "cpu" if not torch.cuda.is_available() else "cuda")
    monkeypatch.setattr(gpu_check, "QUICK_MODELS", ["noscope-coral"])
    args = argparse.Namespace(quick=True, gpu_spec="measured", results_dir=str(tmp_path), part=None)
    for name in ("throughput", "train"):
        monkeypatch.setattr(args, "part", name)
        assert gpu_check.child(args) == 0
        text = (tmp_path / f"{name}_gpu.txt").read_text()
        assert text.startswith(f"# {name}: ") and "# machine: " in text and "# settings: " in text
    assert "noscope-coral" in (tmp_path / "throughput_gpu.txt").read_text()
    assert "f=2" in (tmp_path / "train_gpu.txt").read_text()


def test_the_estimate_part_measures_counts_and_fits_on_the_cpu(tmp_path, monkeypatch):
    # the part's own code on tiny zoo CNNs, timed on the CPU under bf16-free fp16 autocast; the
    # estimates are for an RTX 4090's spec (what a CPU run can check: the pipeline, not the figures)
    monkeypatch.setattr(gpu_check, "DEVICE", "cpu")
    monkeypatch.setattr(gpu_check, "QUICK_ESTIMATE_MODELS", ["game-lol-gold1", "game-sot-time", "game-apex-count",
                                                             "nosuch-model"])
    args = argparse.Namespace(quick=True, gpu_spec="rtx4090", results_dir=str(tmp_path), part="estimate")
    assert gpu_check.child(args) == 0
    text = (tmp_path / "estimate_gpu.txt").read_text()
    assert text.startswith("# estimate: ") and "spec rtx4090" in text
    for name in ("game-lol-gold1", "game-sot-time", "game-apex-count"):
        assert name in text
    assert "skipped: nosuch-model: unknown model 'nosuch-model'" in text  # listed, never dropped silently
    fidelity = [line.split() for line in text.splitlines() if re.match(r"(datasheet|fitted here) +\d", line)]
    assert [row[-7] for row in fidelity] == ["3", "3"]  # models column of both estimates' fidelity rows
    profile = json.loads((tmp_path / "estimate_gpu_profile.json").read_text())
    assert profile["runtime"] == "eager" and "gpu check" in profile["source"] and profile["overhead_us"] > 0


@pytest.mark.slow  # ~10 s: a quick fp16 calibration of this CPU first
def test_the_estimate_part_adds_the_calibrate_parts_estimate(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check, "DEVICE", "cpu")
    monkeypatch.setattr(gpu_check, "QUICK_ESTIMATE_MODELS", ["game-lol-gold1", "game-sot-time", "game-apex-count"])
    args = argparse.Namespace(quick=True, gpu_spec="rtx4090", results_dir=str(tmp_path), part="calibrate")
    assert gpu_check.child(args) == 0 and (tmp_path / "calibration_gpu.json").is_file()
    assert gpu_check.child(argparse.Namespace(**{**vars(args), "part": "estimate"})) == 0
    text = (tmp_path / "estimate_gpu.txt").read_text()
    calibrated = [line.split() for line in text.splitlines() if re.match(r"calibrated +\d", line)]
    assert len(calibrated) == 1 and calibrated[0][1] == "3"
    assert all(line.split()[-1] != "-" for line in text.splitlines() if line.startswith("game-"))


def test_the_estimate_spec_comes_from_the_gpu_name_or_is_asked_for():
    assert gpu_check.spec_of_gpu("NVIDIA H100 80GB HBM3") == "h100"
    assert gpu_check.spec_of_gpu("NVIDIA H100 PCIe") == "h100-pcie"
    assert gpu_check.spec_of_gpu("NVIDIA H200") == "h200"
    assert gpu_check.spec_of_gpu("NVIDIA A100-SXM4-80GB") == "a100-80gb"
    assert gpu_check.spec_of_gpu("NVIDIA GeForce RTX 4090") == "rtx4090"
    assert gpu_check.spec_of_gpu("NVIDIA H100 NVL", "h100-pcie") == "h100-pcie"  # --gpu-spec wins
    with pytest.raises(ValueError, match="no spec matches GPU 'NVIDIA B200': give --gpu-spec"):
        gpu_check.spec_of_gpu("NVIDIA B200")


@pytest.mark.gpu
def test_the_whole_check_runs_on_a_gpu(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--results-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=8 * 60)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "throughput_gpu.txt").is_file() and (tmp_path / "train_gpu.txt").is_file()
