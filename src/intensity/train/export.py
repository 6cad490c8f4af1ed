"""A trained model that leaves the tool: `export_run(RUN, "onnx" | "pt", FILE)`.

The run's model (original or folded) is built as it was trained, its batch norms folded into the
convs/linears before them and its dropout removed (transforms/bn_fold.py), so the file holds
exactly the seed's architecture and flops. The exported model takes a batch of N raw images
(N, C, H, W), applies the run's input normalization (`normalize=False` leaves it to the caller),
groups them f at a time (a last partial group padded inside), and returns (N, classes) logits:
serving code written for the original model does not change. The file is checked before it is
kept: its outputs (ONNX Runtime, or the loaded torch.export program) must match the trained model
in eval mode within fp32 tolerance on batches that do and do not fill the last group.

ONNX needs the `onnx` extra (onnx, onnxruntime), imported only here.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from intensity.output import OutputError, check_output, locked, write_atomic
from intensity.progress import Progress, notify
from intensity.registry import Registry
from intensity.train.checkpoint import load_checkpoint, run_checkpoint

FORMATS: Registry[str] = Registry("export format", hint="choose onnx or pt")
FORMATS.add("onnx", "ONNX (ONNX Runtime, TensorRT)")
FORMATS.add("pt", "torch.export program (torch.export.load)")
TOLERANCE = 1e-4  # fp32: folded batch norms and another engine reorder sums


class Deployed(nn.Module):
    """N images in, N logits out: normalize, pad to whole groups, fold, run, unfold, drop padding.

    Always pads by at least f images: a traced batch of one group would make torch.export
    specialise the group count to 1 (its 0/1 rule); one extra group of zeros costs 1/groups."""

    def __init__(self, model: nn.Module, f: int, shape: tuple[int, ...], norm: dict | None) -> None:
        super().__init__()
        self.model, self.f, self.shape = model, f, tuple(shape)
        mean, std = (norm["mean"], norm["std"]) if norm else ([0.0] * shape[0], [1.0] * shape[0])
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        if self.f == 1:
            return self.model(x)
        n, f = x.shape[0], self.f
        groups = (n + 2 * f - 1) // f
        x = torch.cat([x, x.new_zeros(2 * f - 1, *self.shape)])[: groups * f]
        y = self.model(x.reshape(groups, f * self.shape[0], *self.shape[1:]))
        return y.reshape(groups * f, y.shape[1] // f)[:n]


@dataclass
class Exported:
    run: str
    out: str
    format: str
    model: str
    f: int
    input_shape: tuple[int, ...]
    classes: int
    batch_norms_folded: int
    dropouts_removed: int
    normalized_inside: bool
    max_abs_diff: float  # exported vs trained (eval mode) on the check batches
    bytes: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _exported_checkpoint(run: str | Path) -> Path:
    return run_checkpoint(run, "the run to export is empty")


def load_trained(run: str | Path) -> tuple[dict, nn.Module]:
    """A finished run's checkpoint and trained model (eval mode); refused while the run is locked
    by its trainer (still training) or when its checkpoint is missing or corrupt."""
    from intensity.train.loop import model_from_state

    path = _exported_checkpoint(run)
    try:
        with locked(path.parent, "run directory"):
            state = load_checkpoint(path)
    except OutputError:
        raise ValueError(f"run {path.parent} is still training (its trainer holds the lock); export it when "
                         f"the run has finished") from None
    try:
        return state, model_from_state(state)
    except (KeyError, RuntimeError) as error:
        raise ValueError(f"checkpoint {path} does not hold a model this tool can rebuild "
                         f"({str(error).splitlines()[0][:120]}); train it again") from None


def deployable_model(state: dict, model: nn.Module, normalize: bool = True) -> tuple[Deployed, int, int]:
    """The model that ships (batch norms folded, dropout removed), wrapped to take N images; with the
    number of batch norms folded and dropouts removed."""
    from torch.nn.modules.batchnorm import _BatchNorm

    from intensity.transforms.bn_fold import deployable

    norms = sum(isinstance(m, _BatchNorm) for m in model.modules())
    drops = sum(isinstance(m, nn.modules.dropout._DropoutNd) for m in model.modules())
    shipped = deployable(model)
    left = sum(isinstance(m, _BatchNorm) for m in shipped.modules())
    wrapped = Deployed(shipped, state["f"], tuple(state["input_shape"]), state.get("normalize") if normalize else None)
    return wrapped.eval(), norms - left, drops


def _reference(state: dict, model: nn.Module, normalize: bool) -> Deployed:
    """The trained model itself (batch norms in eval mode, not folded) behind the same wrapper."""
    return Deployed(model.eval(), state["f"], tuple(state["input_shape"]), state.get("normalize") if normalize
                    else None).eval()


def _check_batches(f: int, shape: tuple[int, ...]) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [torch.rand(n, *shape, generator=generator) for n in sorted({1, f, 2 * f + 1, 4 * f})]


def _export_pt(model: Deployed, example: torch.Tensor) -> bytes:
    program = torch.export.export(model, (example,), dynamic_shapes={"x": {0: torch.export.Dim.DYNAMIC}})
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    return buffer.getvalue()


def _run_pt(data: bytes):  # noqa: ANN202
    program = torch.export.load(io.BytesIO(data)).module()
    return lambda x: program(x).detach().numpy()


def _onnx_modules():  # noqa: ANN202
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError:
        raise ValueError("`--format onnx` needs onnx and onnxruntime: pip install 'intensity[onnx]' "
                         "(or export `--format pt`)") from None
    return onnxruntime


def _export_onnx(model: Deployed, example: torch.Tensor) -> bytes:
    _onnx_modules()
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the tracer's notes on shape arithmetic it records as constants
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), buffer, input_names=["images"], output_names=["logits"],
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
    return buffer.getvalue()


def _run_onnx(data: bytes):  # noqa: ANN202
    session = onnx_session(data)
    return lambda x: session.run(None, {"images": x.numpy()})[0]


def onnx_session(data: bytes, threads: int | None = None):  # noqa: ANN201
    """An ONNX Runtime CPU session of an exported model (`threads`: intra-op threads)."""
    onnxruntime = _onnx_modules()
    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])


_EXPORTERS = {"onnx": (_export_onnx, _run_onnx), "pt": (_export_pt, _run_pt)}


@torch.no_grad()
def _max_diff(runner, reference: nn.Module, batches: list[torch.Tensor]) -> float:  # noqa: ANN001
    return max(float(abs(runner(x) - reference(x).numpy()).max()) for x in batches)


def export_run(run: str | Path, fmt: str, out: str | Path, *, normalize: bool = True,
               progress: Progress | None = None) -> Exported:
    """Export the trained model of `run` (a run directory or its last.pt) to `out` (see the module
    docstring). Nothing is written unless the exported model matches the trained one."""
    FORMATS[fmt]  # noqa: B018 (an unknown format is a KeyError naming the choices)
    check_output(out, inputs=[run, _exported_checkpoint(run)])
    notify(progress, "loading the run", 0, 3)
    state, model = load_trained(run)
    shipped, norms, drops = deployable_model(state, model, normalize)
    batches = _check_batches(state["f"], tuple(state["input_shape"]))
    notify(progress, f"exporting to {fmt}", 1, 3)
    export, runner = _EXPORTERS[fmt]
    data = export(shipped, batches[-1])
    notify(progress, "checking the exported model against the trained one", 2, 3)
    diff = _max_diff(runner(data), _reference(state, model, normalize), batches)
    if not diff <= TOLERANCE:
        raise ValueError(f"the exported model differs from the trained one by {diff:.2e} (> {TOLERANCE:g}); "
                         f"nothing was written")
    target = write_atomic(out, data, inputs=[run, _exported_checkpoint(run)])
    notify(progress, "done", 3, 3)
    notes = [f"takes (N, {', '.join(map(str, state['input_shape']))}) images"
             + (" in [0, 1] (the run's normalization is inside)" if normalize and state.get("normalize") else "")
             + f", returns (N, {state['num_classes']}) logits"]
    return Exported(str(run), str(target), fmt, state["model_name"], state["f"], tuple(state["input_shape"]),
                        state["num_classes"], norms, drops, bool(normalize and state.get("normalize")), diff,
                        len(data), notes)
