"""Exporters of a trained torch module: TorchScript, ONNX (dynamic axes) and a Triton model repository.

Every export is run once on probe inputs and compared with PyTorch before it is kept; a difference
over the tolerance raises IntegrityFailure with the caller's code, so no unchecked export is stored.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livetalking.errors import IntegrityFailure

TOLERANCE = 1e-3
TRITON_TYPES = {np.dtype(np.float32): "TYPE_FP32", np.dtype(np.float16): "TYPE_FP16", np.dtype(np.int64): "TYPE_INT64"}


@dataclass(frozen=True)
class ExportCheck:
    """How an export compared with PyTorch on the probe inputs, and how long one run of it took."""

    max_abs_diff: float
    seconds: float


def _expected(model, inputs: tuple) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model(*inputs).numpy()


def _check(diff: float, what: str, code: str) -> None:
    if not diff <= TOLERANCE:
        raise IntegrityFailure(f"the {what} export differs from PyTorch by {diff:.2e} (tolerance {TOLERANCE})",
                               code=code)


def onnx_session(path: Path, threads: int = 1):
    """An onnxruntime session with the CUDA provider first when the GPU build is installed."""
    import onnxruntime

    wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    providers = [p for p in wanted if p in onnxruntime.get_available_providers()]
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=providers)


def export_onnx(model, inputs: tuple, path: Path, input_names: list[str], output_names: list[str],
                dynamic_axes: dict[str, dict[int, str]], code: str) -> ExportCheck:
    """Export `model` (in eval mode) to ONNX at `path` and check it against PyTorch on `inputs`."""
    import onnxruntime
    import torch

    model.eval()
    torch.onnx.export(model, inputs, str(path), input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, dynamo=False, opset_version=17)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {name: x.numpy() for name, x in zip(input_names, inputs, strict=True)}
    began = time.perf_counter()
    got = session.run(None, feed)[0]
    seconds = time.perf_counter() - began
    diff = float(np.abs(got - _expected(model, inputs)).max())
    _check(diff, "ONNX", code)
    return ExportCheck(diff, seconds)


def export_torchscript(model, inputs: tuple, path: Path, code: str) -> ExportCheck:
    """Trace `model` (in eval mode) to TorchScript at `path`, reload it, and check it against PyTorch."""
    import torch

    model.eval()
    with torch.no_grad():
        torch.jit.save(torch.jit.trace(model, inputs), str(path))
        loaded = torch.jit.load(str(path))
        began = time.perf_counter()
        got = loaded(*inputs).numpy()
        seconds = time.perf_counter() - began
    diff = float(np.abs(got - _expected(model, inputs)).max())
    _check(diff, "TorchScript", code)
    return ExportCheck(diff, seconds)


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a Triton model: name, dtype and shape without the batch axis (-1 = dynamic)."""

    name: str
    dtype: np.dtype
    dims: tuple[int, ...]


def triton_config(name: str, inputs: list[TensorSpec], outputs: list[TensorSpec], max_batch_size: int,
                  gpu: bool = True) -> str:
    """config.pbtxt of an ONNX Runtime model with dynamic batching."""
    def block(kind: str, specs: list[TensorSpec]) -> str:
        rows = ",\n".join(f'  {{ name: "{s.name}" data_type: {TRITON_TYPES[np.dtype(s.dtype)]} '
                          f'dims: [ {", ".join(str(d) for d in s.dims)} ] }}' for s in specs)
        return f"{kind} [\n{rows}\n]\n"

    group = "KIND_GPU" if gpu else "KIND_CPU"
    return (f'name: "{name}"\nbackend: "onnxruntime"\nmax_batch_size: {max_batch_size}\n'
            + block("input", inputs) + block("output", outputs)
            + f"instance_group [ {{ count: 1 kind: {group} }} ]\n"
            + "dynamic_batching { max_queue_delay_microseconds: 2000 }\n")


def write_triton_repository(root: Path, name: str, onnx_file: Path, inputs: list[TensorSpec],
                            outputs: list[TensorSpec], max_batch_size: int, version: int = 1) -> list[Path]:
    """<root>/<name>/config.pbtxt and <root>/<name>/<version>/model.onnx; returns the files written."""
    folder = root / name
    (folder / str(version)).mkdir(parents=True, exist_ok=True)
    config = folder / "config.pbtxt"
    config.write_text(triton_config(name, inputs, outputs, max_batch_size))
    model = folder / str(version) / "model.onnx"
    model.write_bytes(onnx_file.read_bytes())
    return [config, model]
