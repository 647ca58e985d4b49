"""ModelSpec: everything later steps need to know about a model, carried inside every artifact.

It is written into checkpoints (as a dict), ONNX ``metadata_props`` (as JSON under ``objx.spec``) and
engine sidecars, and read back by every later step, so no step asks for flags the artifact knows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from objectix_edge.enums import Task
from objectix_edge.errors import ArtifactError

SPEC_METADATA_KEY = "objx.spec"
SPEC_VERSION = 1

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Category:
    """One class: contiguous index is its position in ModelSpec.categories; ``id`` is the COCO id."""

    id: int
    name: str


@dataclass(frozen=True)
class ModelSpec:
    """Frozen description of a model: identity, input contract, categories and output contract.

    ``input_size`` is (height, width). Images are RGB, scaled to [0, 1], then normalized with
    ``mean``/``std``. ``model_kwargs`` are the keyword arguments ``create_model`` was called with,
    so a checkpoint can rebuild its own architecture.
    """

    name: str
    task: Task
    input_size: tuple[int, int]
    categories: tuple[Category, ...]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    max_det: int = 100
    roi_context: float = 0.25
    pad_value: int = 114
    model_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.categories)

    @property
    def category_names(self) -> list[str]:
        return [c.name for c in self.categories]

    @property
    def category_ids(self) -> list[int]:
        return [c.id for c in self.categories]

    def with_input_size(self, size: tuple[int, int]) -> ModelSpec:
        return replace(self, input_size=(int(size[0]), int(size[1])))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["task"] = self.task.value
        data["spec_version"] = SPEC_VERSION
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "artifact") -> ModelSpec:
        try:
            return cls(
                name=str(data["name"]),
                task=Task(data["task"]),
                input_size=(int(data["input_size"][0]), int(data["input_size"][1])),
                categories=tuple(Category(int(c["id"]), str(c["name"])) for c in data["categories"]),
                input_names=tuple(str(n) for n in data["input_names"]),
                output_names=tuple(str(n) for n in data["output_names"]),
                mean=tuple(float(v) for v in data["mean"]),  # type: ignore[arg-type]
                std=tuple(float(v) for v in data["std"]),  # type: ignore[arg-type]
                max_det=int(data.get("max_det", 100)),
                roi_context=float(data.get("roi_context", 0.25)),
                pad_value=int(data.get("pad_value", 114)),
                model_kwargs=dict(data.get("model_kwargs", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(
                f"{source}: its model spec is malformed ({exc!r}); re-create it with objx-edge train/export"
            ) from exc

    @classmethod
    def from_json(cls, text: str, source: str = "artifact") -> ModelSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArtifactError(f"{source}: its model spec is not valid JSON; re-export it") from exc
        return cls.from_dict(data, source)
