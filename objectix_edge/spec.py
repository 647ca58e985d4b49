"""ModelSpec: everything later steps need to know about a model, carried inside every artifact.

It is written into checkpoints (as a dict), ONNX ``metadata_props`` (as JSON under ``objx.spec``) and
engine sidecars, and read back by every later step, so no step asks for flags the artifact knows.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from objectix_edge.defaults import default_of
from objectix_edge.enums import ChannelOrder, ResizeKernel, ResizePolicy, RoiMode, Task
from objectix_edge.errors import ArtifactError
from objectix_edge.spec_check import check_spec_dict

SPEC_METADATA_KEY = "objx.spec"
# 1: RGB, 0-1, ImageNet statistics, letterbox (detector) / crop with context (ROI), fixed in code.
# 2: the preprocessing fields below. A version-1 spec reads as its defaults, which are version 1's behaviour.
SPEC_VERSION = 2

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class FrozenKwargs(Mapping[str, Any]):
    """A read-only mapping of keyword arguments (a frozen ModelSpec's ``model_kwargs``).

    It holds its own copy of the values, compares equal to a dict with the same items, and copies and
    pickles like one; ``dict(kwargs)`` or ``{**kwargs}`` gives a plain dict to change."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._items: dict[str, Any] = copy.deepcopy(dict(items or {}))

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"FrozenKwargs({self._items!r})"

    def __reduce__(self) -> tuple[type[FrozenKwargs], tuple[dict[str, Any]]]:
        return (FrozenKwargs, (self._items,))

    def to_dict(self) -> dict[str, Any]:
        """A plain (deep) copy, for JSON and checkpoints."""
        return copy.deepcopy(self._items)


@dataclass(frozen=True)
class Category:
    """One class: contiguous index is its position in ModelSpec.categories; ``id`` is the COCO id."""

    id: int
    name: str


@dataclass(frozen=True)
class ModelSpec:
    """Frozen description of a model: identity, input contract, categories and output contract.

    ``input_size`` is (height, width) (for ``resize=keep``, the nominal size used to trace and bench).
    Preprocessing: pixels in ``channel_order``, scaled to [0, ``pixel_scale``] (1 or 255), then
    ``(x - mean[i]) / std[i]`` per input channel index i, in those units; resized by ``resize`` with
    ``resize_kernel``. ``model_kwargs`` are the keyword arguments ``create_model`` was called with,
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
    model_kwargs: Mapping[str, Any] = field(default_factory=FrozenKwargs)
    channel_order: ChannelOrder = ChannelOrder.RGB
    pixel_scale: float = 1.0
    resize: ResizePolicy = ResizePolicy.LETTERBOX
    resize_kernel: ResizeKernel = ResizeKernel.AREA
    max_side: int = 0
    roi_mode: RoiMode = RoiMode.CROP

    def __post_init__(self) -> None:
        if not isinstance(self.model_kwargs, FrozenKwargs):  # frozen means frozen: no dict to change in place
            object.__setattr__(self, "model_kwargs", FrozenKwargs(self.model_kwargs))

    @property
    def dynamic_hw(self) -> bool:
        """True when the model takes images of any height and width (``resize=keep``)."""
        return self.resize == ResizePolicy.KEEP

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
        data = asdict(self)  # deep-copies every field; FrozenKwargs copies as itself
        data["model_kwargs"] = copy.deepcopy(dict(self.model_kwargs))
        data["task"] = self.task.value
        for key in ("channel_order", "resize", "resize_kernel", "roi_mode"):
            data[key] = getattr(self, key).value
        data["spec_version"] = SPEC_VERSION
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "artifact") -> ModelSpec:
        """Read a spec of any version up to ours; fields a version-1 spec lacks take version 1's behaviour."""
        check_spec_dict(data, source)
        if int(data.get("spec_version", 1)) > SPEC_VERSION:
            raise ArtifactError(
                f"{source}: its model spec is version {data['spec_version']}, newer than this objectix-edge "
                f"reads ({SPEC_VERSION}); upgrade objectix-edge"
            )
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
                max_det=int(data.get("max_det", default_of(ModelSpec, "max_det"))),
                roi_context=float(data.get("roi_context", default_of(ModelSpec, "roi_context"))),
                pad_value=int(data.get("pad_value", default_of(ModelSpec, "pad_value"))),
                model_kwargs=dict(data.get("model_kwargs", default_of(ModelSpec, "model_kwargs"))),
                channel_order=ChannelOrder(data.get("channel_order", default_of(ModelSpec, "channel_order"))),
                pixel_scale=float(data.get("pixel_scale", default_of(ModelSpec, "pixel_scale"))),
                resize=ResizePolicy(data.get("resize", default_of(ModelSpec, "resize"))),
                resize_kernel=ResizeKernel(data.get("resize_kernel", default_of(ModelSpec, "resize_kernel"))),
                max_side=int(data.get("max_side", default_of(ModelSpec, "max_side"))),
                roi_mode=RoiMode(data.get("roi_mode", default_of(ModelSpec, "roi_mode"))),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(
                f"{source}: its model spec is malformed ({exc!r}); re-create it with objx-edge train/export"
            ) from exc

    @classmethod
    def from_json(cls, text: str, source: str = "artifact") -> ModelSpec:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            raise ArtifactError(f"{source}: its model spec is not valid JSON; re-export it") from exc
        return cls.from_dict(data, source)
