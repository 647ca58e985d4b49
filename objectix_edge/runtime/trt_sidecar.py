"""TensorRT engine sidecar (``model.engine.json``), the TensorRT import, and the GPU identity.

An engine only runs with the TensorRT version and GPU architecture it was built for, so the sidecar
records them (plus the ModelSpec, precision and optimization profile), and loaders refuse a mismatch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from objectix_edge.enums import Precision
from objectix_edge.errors import ArtifactError, MissingDependencyError
from objectix_edge.fileio import read_json, write_json_atomic
from objectix_edge.spec import ModelSpec

SIDECAR_FORMAT = "objx-engine-v1"
REBUILD = "rebuild it on this machine with objx-edge build-engine"


def import_tensorrt() -> ModuleType:
    """The ``tensorrt`` module, or MissingDependencyError naming the extra to install."""
    try:
        return importlib.import_module("tensorrt")
    except ImportError as exc:
        raise MissingDependencyError("TensorRT (Python package tensorrt)", "tensorrt") from exc
    except OSError as exc:  # the wheel is there but its native libraries (libnvinfer) are not
        raise MissingDependencyError(
            f"TensorRT's native libraries ({str(exc).splitlines()[0][:120]})", "tensorrt"
        ) from exc


@dataclass(frozen=True)
class GpuInfo:
    name: str
    compute_capability: str  # "8.9"


def current_gpu(device_index: int = 0) -> GpuInfo:
    """Name and compute capability of the CUDA device, via torch or else cuda-python."""
    try:
        import torch

        if torch.cuda.is_available():
            major, minor = torch.cuda.get_device_capability(device_index)
            return GpuInfo(torch.cuda.get_device_name(device_index), f"{major}.{minor}")
    except ImportError:
        pass  # torch is a core dependency, but the runner also works with cuda-python alone
    return _gpu_from_cuda_python(device_index)


def _gpu_from_cuda_python(device_index: int) -> GpuInfo:
    try:
        from cuda.bindings import runtime as cudart  # cuda-python ≥ 12.6
    except ImportError:
        try:
            from cuda import cudart  # type: ignore[no-redef]  # older cuda-python layout
        except ImportError as exc:
            raise MissingDependencyError(
                "an NVIDIA GPU (torch sees no CUDA device and cuda-python is absent)", "tensorrt"
            ) from exc
    err, props = cudart.cudaGetDeviceProperties(device_index)
    if int(err) != 0:
        raise MissingDependencyError(
            f"an NVIDIA GPU (CUDA reports error {int(err)} for device {device_index})", "tensorrt"
        )
    name = props.name.decode() if isinstance(props.name, bytes) else str(props.name)
    return GpuInfo(name.rstrip("\x00"), f"{props.major}.{props.minor}")


@dataclass(frozen=True)
class Sidecar:
    """What an engine was built from and for."""

    spec: ModelSpec
    precision: Precision
    tensorrt_version: str
    gpu: GpuInfo
    profile: dict[str, dict[str, list[int]]]  # input name → {"min", "opt", "max"} shapes
    onnx_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SIDECAR_FORMAT,
            "spec": self.spec.to_dict(),
            "precision": self.precision.value,
            "tensorrt_version": self.tensorrt_version,
            "gpu": {"name": self.gpu.name, "compute_capability": self.gpu.compute_capability},
            "profile": self.profile,
            "onnx_sha256": self.onnx_sha256,
        }

    def check_runtime(self, engine: Path, tensorrt_version: str, gpu: GpuInfo) -> None:
        """Refuse to run on another TensorRT version or GPU architecture (plans are not portable)."""
        if self.tensorrt_version != tensorrt_version:
            raise ArtifactError(
                f"{engine}: built with TensorRT {self.tensorrt_version}, this machine has {tensorrt_version}; {REBUILD}"
            )
        if self.gpu.compute_capability != gpu.compute_capability:
            raise ArtifactError(
                f"{engine}: built for compute capability {self.gpu.compute_capability} ({self.gpu.name}), this GPU is "
                f"{gpu.compute_capability} ({gpu.name}); {REBUILD}"
            )


def sidecar_path(engine: Path) -> Path:
    return Path(f"{engine}.json")


def write_sidecar(engine: Path, sidecar: Sidecar) -> Path:
    path = sidecar_path(engine)
    write_json_atomic(path, sidecar.to_dict())
    return path


def read_sidecar(engine: Path) -> Sidecar:
    path = sidecar_path(engine)
    if not path.is_file():
        raise ArtifactError(
            f"{engine}: its sidecar {path.name} is missing, so its TensorRT version and GPU are unknown; {REBUILD}"
        )
    data = read_json(path, "engine sidecar")
    if not isinstance(data, dict) or data.get("format") != SIDECAR_FORMAT:
        raise ArtifactError(f"{path}: not an objectix-edge engine sidecar ({SIDECAR_FORMAT}); {REBUILD}")
    try:
        return Sidecar(
            spec=ModelSpec.from_dict(data["spec"], source=str(path)),
            precision=Precision(data["precision"]),
            tensorrt_version=str(data["tensorrt_version"]),
            gpu=GpuInfo(str(data["gpu"]["name"]), str(data["gpu"]["compute_capability"])),
            profile={k: {kk: [int(d) for d in vv] for kk, vv in v.items()} for k, v in data["profile"].items()},
            onnx_sha256=str(data.get("onnx_sha256", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{path}: engine sidecar is malformed ({exc!r}); {REBUILD}") from exc
