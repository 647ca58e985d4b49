"""Field-by-field validation of a ModelSpec as read from an artifact (checkpoint, ONNX metadata, sidecar).

A spec comes from a file anyone can edit, and every later step trusts it (an ``input_size`` of
100000 × 100000 allocates 28 GiB before anything fails; a ``std`` of 0 divides by zero). So each field is
checked for its type, range and finiteness when read, and the first bad one is one line naming it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import Enum
from typing import Any

from objectix_edge.enums import ChannelOrder, ResizeKernel, ResizePolicy, RoiMode, Task
from objectix_edge.errors import ArtifactError

MAX_SIDE = 8192  # the largest input side any step accepts (a 16k × 16k float input is 3 GiB per image)
MAX_DET = 10_000
CHANNELS = 3  # every model here takes 3-channel images: mean and std have one value per channel


class _Bad(ValueError):
    """One field's problem: ``field``, what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")


def _enum_fields() -> dict[str, tuple[str, ...]]:
    """The spec's enum fields → their allowed values, read from the enums themselves."""
    enums: dict[str, type[Enum]] = {"task": Task, "channel_order": ChannelOrder, "resize": ResizePolicy}
    enums.update({"resize_kernel": ResizeKernel, "roi_mode": RoiMode})
    return {key: tuple(str(member.value) for member in enum) for key, enum in enums.items()}


def _int(data: dict[str, Any], key: str, low: int, high: int) -> None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Bad(key, f"is {value!r}; it must be an integer from {low} to {high}")


def _number(value: Any, key: str, low: float, high: float, nonzero: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not low <= value <= high or (nonzero and value == 0):
        extra = ", not 0" if nonzero else ""
        raise _Bad(key, f"is {value!r}; it must be a finite number from {low:g} to {high:g}{extra}")


def _names(data: dict[str, Any], key: str) -> None:
    value = data.get(key)
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(n, str) and n for n in value):
        raise _Bad(key, f"is {value!r}; it must be a non-empty list of names")


def _categories(value: Any) -> None:
    if not isinstance(value, (list, tuple)) or not value:
        raise _Bad("categories", f"is {value!r}; it must list at least one category")
    ids = []
    for i, cat in enumerate(value):
        if not (isinstance(cat, dict) and isinstance(cat.get("name"), str) and isinstance(cat.get("id"), int)):
            raise _Bad(f"categories[{i}]", f"is {cat!r}; it must be {{'id': integer, 'name': text}}")
        ids.append(cat["id"])
    if len(set(ids)) != len(ids):
        raise _Bad("categories", "repeats a category id")


def _channels(data: dict[str, Any], key: str, nonzero: bool) -> None:
    value = data.get(key)
    if not isinstance(value, (list, tuple)) or len(value) != CHANNELS:
        raise _Bad(key, f"is {value!r}; it must hold {CHANNELS} numbers, one per channel")
    for i, v in enumerate(value):
        _number(v, f"{key}[{i}]", -1e4, 1e4, nonzero=nonzero)


def _fields(data: Any) -> None:
    if not isinstance(data, dict):
        raise _Bad("the spec", f"is a {type(data).__name__}, not an object of fields")
    version = data.get("spec_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _Bad("spec_version", f"is {version!r}; it must be a positive integer")
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise _Bad("name", f"is {data.get('name')!r}; it must be a model name")
    for key, allowed in _enum_fields().items():
        if (key == "task" or key in data) and data.get(key) not in allowed:
            raise _Bad(key, f"is {data.get(key)!r}; it must be one of {', '.join(allowed)}")
    size = data.get("input_size")
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise _Bad("input_size", f"is {size!r}; it must be [height, width]")
    for side in size:
        if isinstance(side, bool) or not isinstance(side, int) or not 1 <= side <= MAX_SIDE:
            raise _Bad("input_size", f"is {size!r}; each side must be an integer from 1 to {MAX_SIDE}")
    _categories(data.get("categories"))
    _names(data, "input_names")
    _names(data, "output_names")
    _channels(data, "mean", nonzero=False)
    _channels(data, "std", nonzero=True)
    # A field a spec leaves out takes ModelSpec's default (spec.py), valid by construction: only given ones are checked.
    for key, low, high in (("max_det", 1, MAX_DET), ("pad_value", 0, 255), ("max_side", 0, MAX_SIDE)):
        if key in data:
            _int(data, key, low, high)
    if "roi_context" in data:
        _number(data["roi_context"], "roi_context", 0.0, 10.0)
    if "pixel_scale" in data:
        _number(data["pixel_scale"], "pixel_scale", 1e-6, 1e6, nonzero=True)
    if "model_kwargs" in data and not isinstance(data["model_kwargs"], dict):
        raise _Bad("model_kwargs", f"is {data.get('model_kwargs')!r}; it must be an object of keyword arguments")


def check_graph_fits(spec: Any, inputs: Sequence[Any], outputs: Sequence[Any], source: str) -> None:
    """Raise ArtifactError when the graph's inputs/outputs (objects with ``name`` and ``shape``, -1 for a
    dynamic axis) are not what the spec's task and names say: e.g. a detector's spec on a classifier."""
    names = ([i.name for i in inputs], [o.name for o in outputs])
    if (set(names[0]), set(names[1])) != (set(spec.input_names), set(spec.output_names)):
        raise ArtifactError(
            f"{source}: the graph's inputs/outputs {names[0]} → {names[1]} are not the model spec's "
            f"{list(spec.input_names)} → {list(spec.output_names)}; re-export it"
        )
    # Our contract's outputs (DESIGN.md): detections[B, max_det, 6] from detectors, logits[B, C] from
    # classifiers. An output by either name must be the spec's task's, in its shape.
    contract = {"detections": ("detect", 3, 6), "logits": ("classify or roi-classify", 2, spec.num_classes)}
    for out in outputs:
        if out.name not in contract:
            continue
        task, rank, last = contract[out.name]
        shape = list(out.shape)
        if spec.task.value not in task.split(" or ") or len(shape) != rank or shape[-1] not in (last, -1):
            raise ArtifactError(
                f"{source}: its output {out.name}{shape} does not fit the model spec's task {spec.task.value} "
                f"(a {task} model's {out.name} is {rank}-D, last axis {last}); re-export it"
            )


def check_spec_dict(data: Any, source: str) -> None:
    """Raise ArtifactError naming the first malformed field of a spec read from ``source``."""
    try:
        _fields(data)
    except _Bad as exc:
        raise ArtifactError(
            f"{source}: its model spec is malformed: {exc}; re-create it with objx-edge train/export"
        ) from None
