"""A real TorchRunner that records how it is called: the ``check`` of each ``infer`` and how often
``inputs()`` is asked for (no results are faked: every call runs the model)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from objectix_edge.models.checkpoint import load_checkpoint
from objectix_edge.runtime.base import TensorInfo
from objectix_edge.runtime.torch_runner import TorchRunner


class RecordingTorchRunner(TorchRunner):
    checks: list[bool]
    input_calls: int

    @classmethod
    def load(cls, path: Path) -> RecordingTorchRunner:
        ckpt = load_checkpoint(path)
        runner = cls(ckpt.model, ckpt.spec, path)
        runner.checks, runner.input_calls = [], 0
        return runner

    def inputs(self) -> list[TensorInfo]:
        self.input_calls += 1
        return super().inputs()

    def infer(self, feeds: Mapping[str, Any], check: bool = True) -> dict[str, Any]:
        self.checks.append(check)
        return super().infer(feeds, check)
