"""ModelSpec: everything later steps need to know about a model, carried inside every artifact.

It is written into checkpoints (as a dict), ONNX ``metadata_props`` (as JSON under ``objx.spec``) and
engine sidecars, and read back by every later step, so no step asks for flags the artifact knows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any

from objectix_edge.enums import Task
from objectix_edge.errors import ArtifactError
from objectix_edge.spec_check import check_spec_dict

SPEC_METADATA_KEY = "objx.spec"
# 1: RGB, 0-1, ImageNet statistics, letterbox (detector) / crop with context (ROI), fixed in code.
# 2: the preprocessing fields below. A version-1 spec reads as its defaults, which are version 1's behaviour.
SPEC_VERSION = 2

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ChannelOrder(str, Enum):
    """Channel order of the model input (OpenCV reads BGR; torchvision/PIL give RGB)."""

    RGB = "rgb"
    BGR = "bgr"


class ResizePolicy(str, Enum):
    """How an image becomes the model input: letterbox to ``input_size`` (aspect kept, padded), stretch to
    ``input_size``, or keep the image's own size (long side capped at ``max_side`` when it is set)."""

    LETTERBOX = "letterbox"
    STRETCH = "stretch"
    KEEP = "keep"


class ResizeKernel(str, Enum):
    """``area``: OpenCV area when shrinking, bilinear when enlarging, on uint8 (version 1's choice);
    ``bilinear``: OpenCV bilinear on float pixels (= ``F.interpolate(mode="bilinear")``, no antialias);
    ``pil-bilinear``: Pillow's antialiased bilinear (torchvision ``Resize`` on PIL images).

    Which is exact against what: ``bilinear`` is the one float resize, because it must match a torch
    reference: the frame is converted to float32 and resized by OpenCV, equal to ``F.interpolate`` (0
    difference at 2× scales, ≤ 0.01 of a pixel level at others: coefficient rounding), where uint8
    bilinear is up to 0.8 levels off. ``area`` and ``pil-bilinear`` are uint8 in and out,
    exact against OpenCV's and Pillow's own uint8 resize, and the only float work after them is the
    normalization (tests/modelio/test_preprocess_parity.py)."""

    AREA = "area"
    BILINEAR = "bilinear"
    PIL_BILINEAR = "pil-bilinear"


class RoiMode(str, Enum):
    """How an ROI enters an ROI classifier: the box cropped with context + its mask (``resnet50-roi``), or
    the whole image + the ROI mask (ObjectiX)."""

    CROP = "crop"
    FULL_IMAGE = "full-image"


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
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    channel_order: ChannelOrder = ChannelOrder.RGB
    pixel_scale: float = 1.0
    resize: ResizePolicy = ResizePolicy.LETTERBOX
    resize_kernel: ResizeKernel = ResizeKernel.AREA
    max_side: int = 0
    roi_mode: RoiMode = RoiMode.CROP

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
        data = asdict(self)
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
                max_det=int(data.get("max_det", 100)),
                roi_context=float(data.get("roi_context", 0.25)),
                pad_value=int(data.get("pad_value", 114)),
                model_kwargs=dict(data.get("model_kwargs", {})),
                channel_order=ChannelOrder(data.get("channel_order", "rgb")),
                pixel_scale=float(data.get("pixel_scale", 1.0)),
                resize=ResizePolicy(data.get("resize", "letterbox")),
                resize_kernel=ResizeKernel(data.get("resize_kernel", "area")),
                max_side=int(data.get("max_side", 0)),
                roi_mode=RoiMode(data.get("roi_mode", "crop")),
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
