"""Inference throughput in ONNX Runtime (the CPU engine models are deployed with), beside eager
PyTorch: `runtime_throughput(model, batch, shape, runtime="onnxruntime")`.

The model is exported to ONNX in memory at a fixed batch (TorchScript exporter) and run by an
ONNX Runtime CPU session with `threads` intra-op threads (inter-op 1), timed as measure_throughput
times PyTorch: `warmup` batches, then `trials` x `iters` batches, median with spread. Needs the
`onnx` extra (onnx, onnxruntime), imported only here.
"""
from __future__ import annotations

import io
import warnings
import time

import torch

from intensity.hardware.timing import fixed_threads
from intensity.measure.throughput import Throughput, _summary, check_arguments, measure_throughput
from intensity.registry import Registry

RUNTIMES: Registry[str] = Registry("runtime", hint="choose torch or onnxruntime")
RUNTIMES.add("torch", "eager PyTorch")
RUNTIMES.add("onnxruntime", "ONNX Runtime, CPU execution provider")


def _session(model: torch.nn.Module, x: torch.Tensor, threads: int):  # noqa: ANN202
    try:
        import onnxruntime
    except ImportError:
        raise ValueError("`--runtime onnxruntime` needs onnx and onnxruntime: pip install 'intensity[onnx]'") from None
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the tracer's notes on shape arithmetic it records as constants
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (x,), buffer, input_names=["x"], dynamo=False)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return onnxruntime.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])


def onnx_throughput(model: torch.nn.Module, batch: int, input_shape: tuple[int, ...], *, warmup: int = 3,
                    iters: int = 10, trials: int = 3, threads: int | None = None) -> Throughput:
    """Images/s of `model` at `batch` in ONNX Runtime on the CPU (fp32)."""
    check_arguments(batch, warmup, iters, trials, "cpu", "fp32")
    with fixed_threads(threads) as used, torch.no_grad():
        x = torch.randn(batch, *input_shape)
        session = _session(model, x, used)
        feed = {"x": x.numpy()}
        for _ in range(warmup):
            session.run(None, feed)
        rates = []
        for _ in range(trials):
            begin = time.perf_counter()
            for _ in range(iters):
                session.run(None, feed)
            rates.append(batch * iters / (time.perf_counter() - begin))
    return _summary(rates, "cpu", batch, "fp32", iters, False, False, used)


def runtime_throughput(model: torch.nn.Module, batch: int, input_shape: tuple[int, ...], *, runtime: str = "torch",
                       **options) -> Throughput:  # noqa: ANN003
    """measure_throughput (`torch`) or onnx_throughput (`onnxruntime`, CPU fp32 only)."""
    RUNTIMES[runtime]  # noqa: B018 (an unknown runtime is a KeyError naming the choices)
    if runtime == "torch":
        return measure_throughput(model, batch, input_shape, **options)
    if options.get("device", "cpu") != "cpu" or options.get("dtype", "fp32") != "fp32" or options.get("compile"):
        raise ValueError("`runtime` onnxruntime is measured on the CPU in fp32 without --compile; give `--on cpu "
                         "--dtype fp32`, or `--runtime torch`")
    keep = {k: options[k] for k in ("warmup", "iters", "trials", "threads") if k in options}
    return onnx_throughput(model, batch, input_shape, **keep)
