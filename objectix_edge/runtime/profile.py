"""The dynamic-batch range that TensorRT tunes for, shared by engine builds and ONNX Runtime's TensorRT provider."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from objectix_edge.errors import ArtifactError, InputError


@dataclass(frozen=True)
class BatchProfile:
    """Dynamic batch range of the optimization profile: kernels are tuned for ``opt``."""

    min: int = 1
    opt: int = 4
    max: int = 16

    @classmethod
    def parse(cls, text: str) -> BatchProfile:
        """ "1,4,16" → BatchProfile(1, 4, 16); a single "8" means 8,8,8."""
        try:
            values = [int(v) for v in text.split(",")]
        except ValueError:
            values = []
        if len(values) == 1:
            values = values * 3
        if len(values) != 3 or not 1 <= values[0] <= values[1] <= values[2]:
            raise InputError(f"--batch {text!r}: give MIN,OPT,MAX with 1 ≤ MIN ≤ OPT ≤ MAX, e.g. --batch 1,4,16")
        return cls(*values)


def input_shapes(onnx_path: Path, batch: BatchProfile) -> dict[str, dict[str, list[int]]]:
    """``{input: {"min"|"opt"|"max": shape}}`` of an ONNX file's inputs over ``batch``; a batch fixed in the
    file stays fixed. Any other dynamic dimension is refused: no batch profile can cover it."""
    from objectix_edge.export.metadata import load_onnx

    model = load_onnx(onnx_path)
    initializers = {i.name for i in model.graph.initializer}
    shapes: dict[str, dict[str, list[int]]] = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        first, *rest = (d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim)
        if any(d <= 0 for d in rest):
            raise ArtifactError(
                f"{onnx_path}: input {value.name!r} has dynamic dimensions besides the batch; export with a fixed --imgsz"
            )
        sizes = (batch.min, batch.opt, batch.max) if first <= 0 else (first, first, first)
        shapes[value.name] = {k: [b, *rest] for k, b in zip(("min", "opt", "max"), sizes, strict=True)}
    return shapes
