"""Artifact path → Runner: the file type picks the backend, the artifact supplies its ModelSpec.

``.pt``/``.pth`` → TorchRunner, ``.onnx`` → OrtRunner, ``.engine`` → TrtRunner (TensorRT, lazily imported).
"""

from __future__ import annotations

from pathlib import Path

from objectix_edge.enums import Backend, Precision
from objectix_edge.errors import InputError
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.ort_runner import OrtRunner
from objectix_edge.runtime.torch_runner import TorchRunner
from objectix_edge.runtime.trt_runner import TrtRunner

SUFFIX_BACKENDS = {
    ".pt": Backend.TORCH,
    ".pth": Backend.TORCH,
    ".onnx": Backend.ONNXRUNTIME,
    ".engine": Backend.TENSORRT,
}


def backend_for(path: Path) -> Backend:
    """The backend that runs ``path``, from its suffix."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIX_BACKENDS:
        raise InputError(
            f"{path}: unknown artifact type {suffix or '(no suffix)'!r}; give a .pt checkpoint, .onnx file or .engine"
        )
    return SUFFIX_BACKENDS[suffix]


def open_runner(
    path: Path | str,
    backend: Backend | None = None,
    device: str = "cpu",
    precision: Precision | None = None,
    threads: int | None = None,
    cuda_graph: bool = False,
    judge: bool = False,
) -> Runner:
    """Open ``path`` with the runner its type calls for.

    ``precision`` only chooses for a checkpoint (torch runs fp32 or fp16); ONNX files and engines carry
    their precision, and asking for another one is an error that names the file to use instead.
    ``judge``: the outputs will be compared with the original, so an INT8 ONNX file runs as its target
    computes it (runtime/int8_kernels.py).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: artifact not found; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a .pt, .onnx or .engine file")
    kind = backend_for(path)
    if backend is not None and Backend(backend) != kind:
        raise InputError(
            f"{path}: a {path.suffix} file runs on the {kind.value} backend, not {Backend(backend).value}; "
            "drop --backend or convert the file"
        )
    if kind == Backend.TORCH:
        return TorchRunner.from_checkpoint(
            path, device=device, precision=precision or Precision.FP32, cuda_graph=cuda_graph
        )
    if cuda_graph:
        raise InputError(f"{path}: --cuda-graph applies to the torch backend only; pass a .pt checkpoint")
    if kind == Backend.ONNXRUNTIME:
        runner: Runner = OrtRunner(path, device=device, threads=threads, judge=judge)
    else:
        runner = TrtRunner(path, device=device if device.startswith("cuda") else "cuda:0")
    if precision is not None and Precision(precision) != runner.precision:
        runner.close()
        raise InputError(
            f"{path}: holds a {runner.precision.value} model, not {Precision(precision).value}; "
            f"pass the {Precision(precision).value} artifact (objx-edge calibrate) or drop --precision"
        )
    return runner
