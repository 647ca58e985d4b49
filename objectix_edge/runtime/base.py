"""Runner: the one contract every backend (torch, onnxruntime, tensorrt) implements.

``infer(feeds, check=True)`` takes and returns ``{name: ndarray | Tensor}``. The base checks input
names, ranks, fixed dimensions and dtypes against ``inputs()`` (computed once per runner: a session's or
engine's inputs never change); a loop that feeds the same kind of input every call (the cascade, bench)
passes ``check=False`` after its first call. The backend's ``_infer`` does only its own work, so timing
it measures the backend alone.

What callers may rely on is declared, never probed: ``capabilities`` (RunnerCapabilities) says whether
the runner takes torch tensors on its device, has a CUDA stream of its own (``cuda_stream`` and
``enqueue``), which kernels run an INT8 file, and the precision it computes in.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from objectix_edge.enums import Backend, Precision
from objectix_edge.errors import InputError
from objectix_edge.spec import ModelSpec

if TYPE_CHECKING:  # int8_kernels imports onnx: only the annotation is needed here
    from objectix_edge.runtime.int8_kernels import Int8Kernels


@dataclass(frozen=True)
class TensorInfo:
    """Name, shape (-1 for a dynamic dimension) and numpy dtype of one model input or output."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype


@dataclass(frozen=True)
class RunnerCapabilities:
    """What a Runner offers its callers, declared by its backend.

    ``device_tensors``: ``infer`` takes torch tensors on the runner's device and returns tensors there
    (torch; TensorRT when torch has CUDA); otherwise feed numpy (ONNX Runtime copies tensors to the host).
    ``stream``: the runner executes on a CUDA stream of its own (``cuda_stream``), and ``enqueue`` launches
    on it without synchronizing (TensorRT with torch I/O); otherwise work runs on the current stream.
    ``int8_kernels``: how ONNX Runtime runs an INT8 file (runtime/int8_kernels.py), else None.
    ``precision``: what the model computes in.
    """

    device_tensors: bool = False
    stream: bool = False
    int8_kernels: Int8Kernels | None = None
    precision: Precision = Precision.FP32


def _dtype_of(value: Any) -> np.dtype:
    if isinstance(value, np.ndarray):
        return value.dtype
    import torch  # only reached when a Tensor was passed, so torch is already loaded

    return torch.empty((), dtype=value.dtype).numpy().dtype


class Runner(abc.ABC):
    """Loads one artifact and runs it; subclasses implement ``_infer`` and the I/O descriptions.

    ``inputs()`` / ``outputs()`` describe tensors that never change for the runner: backends compute the
    descriptions once, and the base reads ``inputs()`` once for all its checks.
    """

    backend: Backend
    precision: Precision = Precision.FP32
    _expected: dict[str, TensorInfo] | None = None  # inputs() by name, made on the first checked call

    def __init__(self, path: Path | None, spec: ModelSpec) -> None:
        self.path = path
        self.spec = spec

    @abc.abstractmethod
    def inputs(self) -> list[TensorInfo]: ...

    @abc.abstractmethod
    def outputs(self) -> list[TensorInfo]: ...

    @abc.abstractmethod
    def _infer(self, feeds: Mapping[str, Any]) -> dict[str, Any]: ...

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def capabilities(self) -> RunnerCapabilities:
        """What this runner offers callers; backends override it (the default: numpy on the CPU's stream)."""
        return RunnerCapabilities(precision=self.precision)

    @property
    def cuda_stream(self) -> Any | None:
        """The CUDA stream the runner executes on when ``capabilities.stream``, else None."""
        return None

    def enqueue(self, feeds: Mapping[str, Any], check: bool = True) -> dict[str, Any]:
        """Launch on ``cuda_stream`` without synchronizing (only where ``capabilities.stream``)."""
        raise InputError(f"{self.describe()}: has no CUDA stream of its own; call infer")

    def infer(self, feeds: Mapping[str, Any], check: bool = True) -> dict[str, Any]:
        """Run the model on ``feeds``; ``check``: first check them against ``inputs()``.

        ``check=False`` is for a caller that has already had one call of the same kind of feeds checked
        (same names, dtypes and rank); a wrong feed then fails in the backend instead of as InputError.
        """
        if check:
            self._check_feeds(feeds)
        return self._infer(feeds)

    def _check_feeds(self, feeds: Mapping[str, Any]) -> None:
        if self._expected is None:  # inputs() never change for a runner: describe them once
            self._expected = {t.name: t for t in self.inputs()}
        expected = self._expected
        if set(feeds) != set(expected):
            raise InputError(f"{self.describe()}: expects inputs {sorted(expected)}, got {sorted(feeds)}")
        for name, value in feeds.items():
            info = expected[name]
            shape = tuple(value.shape)
            if len(shape) != len(info.shape) or any(e not in (-1, s) for e, s in zip(info.shape, shape, strict=True)):
                raise InputError(f"{self.describe()}: input {name!r} has shape {shape}, expected {info.shape}")
            if _dtype_of(value) != info.dtype:
                raise InputError(
                    f"{self.describe()}: input {name!r} has dtype {_dtype_of(value)}, expected {info.dtype}"
                )

    def describe(self) -> str:
        where = str(self.path) if self.path else self.spec.name
        return f"{where} [{self.backend.value}/{self.precision.value}/{self.device}]"

    def close(self) -> None:  # noqa: B027 (a no-op default: most backends hold nothing to free)
        """Release sessions, engines and device buffers (idempotent)."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
