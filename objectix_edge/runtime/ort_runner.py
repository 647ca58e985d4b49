"""ONNX Runtime backend: CPU by default; CUDA or TensorRT execution providers when the install has them.

Spec and precision come from the file itself (metadata, else the graph), so nothing is asked twice.
INT8 files run with the kernels that make them compute what their target computes (int8_kernels.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.cpu_isa import CpuIsa, host_isa
from objectix_edge.enums import Backend, Int8Form, Precision
from objectix_edge.errors import ArtifactError, InputError, MissingDependencyError
from objectix_edge.export.calib_cache import check_int8_cache
from objectix_edge.export.metadata import (
    CALIB_CACHE_METADATA_KEY,
    PRECISION_METADATA_KEY,
    detect_precision,
    load_onnx,
    spec_from_metadata,
)
from objectix_edge.fileio import user_cache_dir
from objectix_edge.runtime.base import Runner, RunnerCapabilities, TensorInfo
from objectix_edge.runtime.batch_profile import BatchProfile
from objectix_edge.runtime.int8_kernels import Int8Kernels, Int8Target, choose_kernels, int8_target
from objectix_edge.runtime.profile import input_shapes
from objectix_edge.spec_check import check_graph_fits

log = logging.getLogger(__name__)

_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(bool)": np.bool_,
}


def tensorrt_provider_options(onnx_path: Path, cache_dir: Path, batch: BatchProfile = BatchProfile()) -> dict[str, Any]:
    """ONNX Runtime's TensorRT provider with engine/timing caches (else every session start rebuilds the
    engines, minutes) and an optimization profile over the dynamic batch (else each new batch size, e.g. a
    frame with more ROIs, rebuilds them). ORT keys cached engines by model and shapes: one folder serves all."""
    shapes = input_shapes(onnx_path, batch)
    return {
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache_dir),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(cache_dir),
        **{
            f"trt_profile_{k}_shapes": ",".join(
                f"{name}:{'x'.join(map(str, dims[k]))}" for name, dims in shapes.items()
            )
            for k in ("min", "opt", "max")
        },
    }


def providers_for(device: str, available: list[str], trt_options: dict[str, Any] | None = None) -> list[Any]:
    """Execution providers for ``device``: 'cpu', 'cuda[:N]' or 'tensorrt[:N]' (CPU stays as fallback)."""
    kind, _, index = device.partition(":")
    device_id = int(index) if index.isdigit() else 0
    wanted = {
        "cpu": [],
        "cuda": ["CUDAExecutionProvider"],
        "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider"],
    }
    if kind not in wanted:
        raise InputError(f"unknown device {device!r} for onnxruntime; use cpu, cuda[:N] or tensorrt[:N]")
    missing = [p for p in wanted[kind] if p not in available]
    if missing:
        raise MissingDependencyError(f"ONNX Runtime {missing[0]} (installed providers: {', '.join(available)})", "gpu")
    chosen: list[Any] = []
    for name in wanted[kind]:
        options: dict[str, Any] = {"device_id": device_id}
        if name == "TensorrtExecutionProvider" and trt_options:
            options.update(trt_options)
        chosen.append((name, options))
    return [*chosen, "CPUExecutionProvider"]


def _check_started(path: Path, asked: list[Any], active: list[str]) -> None:
    """ONNX Runtime falls back to the CPU when a GPU provider fails to start; a GPU run must not time the CPU."""
    first = asked[0][0] if isinstance(asked[0], tuple) else asked[0]
    if first not in active:
        raise InputError(
            f"{path}: ONNX Runtime's {first} is installed but did not start (active: {', '.join(active)}); "
            "check the CUDA/cuDNN/TensorRT libraries it needs, or use --device cpu"
        )


def _load_errors() -> tuple[type[Exception], ...]:
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    return (
        state.Fail,
        state.InvalidArgument,  # e.g. an empty (0-byte) file: "No graph was found in the protobuf"
        state.InvalidProtobuf,
        state.InvalidGraph,
        state.NotImplemented,
        state.RuntimeException,
    )


class OrtRunner(Runner):
    """Runs an ONNX file with ONNX Runtime. numpy in → numpy out; Tensor in → CPU Tensors out.

    ``judge``: the outputs will be compared with the original (parity, accuracy budgets), so an INT8
    file runs as its target computes it; otherwise as fast as it runs correctly here. ``int8_kernels``
    forces a choice; ``host`` stands in for this CPU's ISA class.

    Capabilities: numpy feeds (tensors are copied to the host); declares its INT8 kernels.
    """

    backend = Backend.ONNXRUNTIME
    int8_target: Int8Target | None = None
    int8_kernels: Int8Kernels | None = None

    def __init__(
        self,
        path: Path | str,
        device: str = "cpu",
        threads: int | None = None,
        judge: bool = False,
        int8_kernels: Int8Kernels | None = None,
        host: CpuIsa | None = None,
    ) -> None:
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: ONNX file not found; check the path or create it with objx-edge export")
        if threads is not None and threads < 1:
            raise InputError(f"threads must be at least 1, got {threads}")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about unused initializers etc. are noise for users
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        trt_options = None
        if device.startswith("tensorrt"):
            trt_cache = user_cache_dir("ort-tensorrt")
            trt_cache.mkdir(parents=True, exist_ok=True)
            trt_options = tensorrt_provider_options(path, trt_cache)
        providers = providers_for(device, ort.get_available_providers(), trt_options)
        self.session = self._open(ort, path, options, providers)
        metadata = self.session.get_modelmeta().custom_metadata_map
        super().__init__(path, spec_from_metadata(metadata, str(path)))
        self.precision = self._precision(metadata, path)
        if self.precision == Precision.INT8:
            check_int8_cache(path, metadata.get(CALIB_CACHE_METADATA_KEY))
        if self.precision == Precision.INT8 and device == "cpu":
            self.int8_target = int8_target(metadata, lambda: load_onnx(path))
            choice = choose_kernels(self.int8_target, host or host_isa(), judge)
            self.int8_kernels = int8_kernels or choice.kernels
            if self.int8_kernels.session_config:  # the kernels are chosen when the session is made
                for key, value in self.int8_kernels.session_config.items():
                    options.add_session_config_entry(key, value)
                self.session = self._open(ort, path, options, providers)
            if choice.note and int8_kernels is None:
                log.warning("%s: %s", path.name, choice.note)
        self._device = device
        self._inputs = [self._info(v) for v in self.session.get_inputs()]
        self._outputs = [self._info(v) for v in self.session.get_outputs()]
        self._output_names = [o.name for o in self._outputs]
        check_graph_fits(self.spec, self._inputs, self._outputs, str(path))

    @staticmethod
    def _open(ort: Any, path: Path, options: Any, providers: list[Any]) -> Any:
        try:
            session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except _load_errors() as exc:
            raise ArtifactError(
                f"{path}: ONNX Runtime cannot load it ({str(exc).splitlines()[0][:200]}); re-export it"
            ) from exc
        _check_started(path, providers, session.get_providers())
        return session

    def describe(self) -> str:
        base = super().describe()
        if self.int8_kernels is None:
            return base
        target = self.int8_target
        built = f" for {target.isa.value}" if target is not None and target.form == Int8Form.CPU else ""
        form = (target.form if target is not None else Int8Form.TENSORRT).value
        return f"{base[:-1]}, {form}{built}, {self.int8_kernels.value} kernels]"

    def _precision(self, metadata: Mapping[str, str], path: Path) -> Precision:
        if PRECISION_METADATA_KEY in metadata and metadata[PRECISION_METADATA_KEY] in {p.value for p in Precision}:
            return Precision(metadata[PRECISION_METADATA_KEY])
        return detect_precision(load_onnx(path))  # untagged file: inspect the graph once

    @staticmethod
    def _info(value: Any) -> TensorInfo:
        shape = tuple(d if isinstance(d, int) and d >= 0 else -1 for d in value.shape)
        if value.type not in _ORT_DTYPES:
            raise ArtifactError(f"tensor {value.name!r} has unsupported type {value.type}")
        return TensorInfo(value.name, shape, np.dtype(_ORT_DTYPES[value.type]))

    @property
    def device(self) -> str:
        return self._device

    @property
    def capabilities(self) -> RunnerCapabilities:
        return RunnerCapabilities(int8_kernels=self.int8_kernels, precision=self.precision)

    @property
    def providers(self) -> list[str]:
        return list(self.session.get_providers())

    def inputs(self) -> list[TensorInfo]:
        return list(self._inputs)

    def outputs(self) -> list[TensorInfo]:
        return list(self._outputs)

    def _infer(self, feeds: Mapping[str, Any]) -> dict[str, Any]:
        as_numpy = all(isinstance(v, np.ndarray) for v in feeds.values())
        arrays = {k: v if isinstance(v, np.ndarray) else v.detach().cpu().numpy() for k, v in feeds.items()}
        results = self.session.run(self._output_names, arrays)
        if as_numpy:
            return dict(zip(self._output_names, results, strict=True))
        import torch  # a Tensor was passed, so torch is already loaded

        return {name: torch.from_numpy(r) for name, r in zip(self._output_names, results, strict=True)}

    def close(self) -> None:
        self.__dict__.pop("session", None)
