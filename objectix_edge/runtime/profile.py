"""The dynamic-batch (and, for any-size models, height/width) range TensorRT tunes for: engine builds and ORT's TensorRT provider."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from objectix_edge.errors import ArtifactError
from objectix_edge.export.metadata import load_onnx, spec_from_metadata
from objectix_edge.runtime.batch_profile import BatchProfile
from objectix_edge.spec import SPEC_METADATA_KEY, ModelSpec

if TYPE_CHECKING:
    import onnx


@dataclass(frozen=True)
class SideProfile:
    """Dynamic image height and width range (pixels) of a model that takes any image size (ObjectiX):
    both sides of every input span ``min``..``max`` and kernels are tuned for ``opt`` × ``opt``."""

    min: int = 64
    opt: int = 320
    max: int = 640

    @classmethod
    def for_spec(cls, spec: ModelSpec) -> SideProfile:
        """From the model's spec: up to its long-side cap (1024 when uncapped), tuned at its nominal size."""
        top = spec.max_side or 1024
        opt = min(max(spec.input_size), top)
        return cls(min(cls.min, opt), opt, top)


def _dims(value: onnx.ValueInfoProto) -> list[int]:
    return [d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim]


def input_shapes(
    onnx_path: Path, batch: BatchProfile, sides: SideProfile | None = None
) -> dict[str, dict[str, list[int]]]:
    """``{input: {"min"|"opt"|"max": shape}}`` of an ONNX file's inputs over ``batch``; a batch fixed in the
    file stays fixed. Dynamic height and width (NCHW axes 2, 3) span ``sides`` (default: from the file's
    spec) when the spec says the model takes any size; any other dynamic dimension is refused."""

    model = load_onnx(onnx_path)
    initializers = {i.name for i in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in initializers]
    shapes: dict[str, dict[str, list[int]]] = {}
    for value in inputs:
        first, *rest = _dims(value)
        free_sides = len(rest) == 3 and rest[0] > 0 and rest[1] <= 0 and rest[2] <= 0
        if free_sides and sides is None:
            metadata = {p.key: p.value for p in model.metadata_props}
            spec = spec_from_metadata(metadata, str(onnx_path)) if SPEC_METADATA_KEY in metadata else None
            sides = SideProfile.for_spec(spec) if spec is not None and spec.dynamic_hw else None
        if any(d <= 0 for d in rest) and not (free_sides and sides is not None):
            raise ArtifactError(
                f"{onnx_path}: input {value.name!r} has dynamic dimensions besides the batch; export with a fixed --imgsz"
            )
        sizes = (batch.min, batch.opt, batch.max) if first <= 0 else (first, first, first)
        side = (sides.min, sides.opt, sides.max) if free_sides and sides is not None else (0, 0, 0)
        shapes[value.name] = {
            k: [b, rest[0], s, s] if free_sides else [b, *rest]
            for k, b, s in zip(("min", "opt", "max"), sizes, side, strict=True)
        }
    return shapes
