"""One measured model: throughput on this machine, utilization and the efficiency gap, as a record.

`measure_model` is what `intensity measure`, `gap` and `report --measure` run; `Measurement` is
the record they print, plot and store. Utilization (seed 003) and computational efficiency
(seed 001 Eqn 7) are one quantity (analysis.gap.computational_efficiency); the record keeps both
names so either seed's tables read naturally.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from intensity.analysis.gap import efficiency_gap
from intensity.api import analyze, parse_input_shape
from intensity.hardware import get_spec
from intensity.measure.throughput import Throughput, check_arguments, measure_throughput
from intensity.models import resolve_model
from intensity.progress import Progress, notify


@dataclass(frozen=True)
class Measurement:
    model: str
    spec: str  # the spec whose peak utilization is taken against (e.g. `measured`)
    peak_tflops: float
    flops_per_image: int
    throughput: Throughput
    utilization: float  # seed 003 3.1
    ideal_latency: float  # seed 001 Eqn 1, seconds per batch
    actual_latency: float
    efficiency: float  # seed 001 Eqn 7: the same quantity as utilization
    log_gap: float  # seed 001 Eqn 9
    accuracy: float | None = None
    warnings: tuple[str, ...] = ()  # busy machine during the timing or the peak micro-benchmark

    def to_dict(self) -> dict[str, Any]:
        """A flat record: the throughput's fields next to the derived ones (tuples as lists)."""
        record = asdict(self)
        flat = {**{k: v for k, v in record.items() if k != "throughput"}, **record["throughput"]}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in flat.items()}


def measure_model(model: str, *, batch: int = 32, input_shape: str | None = None,
                  dtype: str = "fp32", on: str = "cpu", device: str = "measured", warmup: int = 3,
                  iters: int = 10, trials: int = 3, channels_last: bool = False, compile: bool = False,
                  accuracy: float | None = None, threads: int | None = None, amp: bool = False,
                  progress: Progress | None = None) -> Measurement:
    """Measure `model` on `on` (cpu, cuda or cuda:N) and relate it to the peak of spec `device`.

    `threads` fixes torch's thread count for the timing and any micro-benchmark (default: the
    current setting); `amp` runs the fp32 model under torch.autocast at `dtype` (fp16/bf16);
    `progress(description, completed, total)` hears of each stage's steps."""
    check_arguments(batch, warmup, iters, trials, on, dtype, option="on", amp=amp)
    notify(progress, f"building {model}", 0, 1)
    resolved = resolve_model(model)
    shape = parse_input_shape(input_shape) if input_shape else resolved.input_shape
    notify(progress, f"building {model}", 1, 1)
    spec = get_spec(device, dtype, threads=threads, progress=progress)
    notify(progress, f"counting flops of {model}", 0, 1)
    per_image = analyze(resolved.module, batch=1, input_shape=shape).totals.flops
    notify(progress, f"counting flops of {model}", 1, 1)
    result = measure_throughput(resolved.module, batch, shape, device=on, dtype=dtype, warmup=warmup,
                                iters=iters, trials=trials, channels_last=channels_last, compile=compile,
                                threads=threads, amp=amp, progress=progress)
    peak = spec.peak_flops(dtype)
    gap = efficiency_gap(model, per_image * batch, result.batch_latency, peak, accuracy)
    warnings = (*spec.warnings, *([result.warning] if result.warning else []), *above_peak_warning(gap.efficiency, spec))
    return Measurement(model, spec.key, peak / 1e12, per_image, result, gap.efficiency, gap.ideal_latency,
                       gap.actual_latency, gap.efficiency, gap.log_gap, accuracy, warnings)


def above_peak_warning(utilization: float, spec: object) -> tuple[str, ...]:
    """Utilization above 1 cannot be: the peak it is taken against is too low. Say why, never report
    it silently."""
    if utilization <= 1:
        return ()
    if getattr(spec, "benchmarks", ()):  # micro-benchmarked here
        why = (f"the peak of {spec.key} was micro-benchmarked while the machine was busier than during this "
               f"timing; measure again on a quieter machine, or give the peak with --peak-tflops")
    else:
        why = f"{spec.key}'s peak is below what this model reached here; is --device the machine it ran on?"
    return (f"utilization {utilization:.0%} is above 100%: {why}",)
