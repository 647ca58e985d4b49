"""Runner: the one contract every backend (torch, onnxruntime, tensorrt) implements.

``infer(feeds)`` takes and returns ``{name: ndarray | Tensor}``. The base checks input names, ranks,
fixed dimensions and dtypes; the backend's ``_infer`` does only its own work, so timing it measures the
backend alone.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from objectix_edge.enums import Backend, Precision
from objectix_edge.errors import InputError
from objectix_edge.spec import ModelSpec


@dataclass(frozen=True)
class TensorInfo:
    """Name, shape (-1 for a dynamic dimension) and numpy dtype of one model input or output."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype


def _dtype_of(value: Any) -> np.dtype:
    if isinstance(value, np.ndarray):
        return value.dtype
    import torch  # only reached when a Tensor was passed, so torch is already loaded

    return torch.empty((), dtype=value.dtype).numpy().dtype


class Runner(abc.ABC):
    """Loads one artifact and runs it; subclasses implement ``_infer`` and the I/O descriptions."""

    backend: Backend
    precision: Precision = Precision.FP32

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

    def infer(self, feeds: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``feeds`` against ``inputs()`` and run the model."""
        self._check_feeds(feeds)
        return self._infer(feeds)

    def _check_feeds(self, feeds: Mapping[str, Any]) -> None:
        expected = {t.name: t for t in self.inputs()}
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
