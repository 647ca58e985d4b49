"""The MobileNet-inspired detector's ``.ckpt`` (``model_state_dict`` + epoch, batch_index, optimizer, loss).

Every key is placed, ``loc_layers`` included even when the chosen box variant does not use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from objectix_edge.defaults import (
    MOBILELIKE_BOX_FORMAT,
    MOBILELIKE_BOXES,
    MOBILELIKE_BOXES_SCALED,
    MOBILELIKE_NUM_CLASSES,
)
from objectix_edge.errors import InputError
from objectix_edge.models.importers.common import ImportResult, place
from objectix_edge.models.mobilelike_det import BoxFormat, mobilelike_det
from objectix_edge.spec import Category


def import_mobilelike(
    state: Mapping[str, torch.Tensor],
    path: Path,
    num_classes: int = MOBILELIKE_NUM_CLASSES,
    boxes: int = MOBILELIKE_BOXES,
    box_format: str = MOBILELIKE_BOX_FORMAT,
    boxes_scaled: bool = MOBILELIKE_BOXES_SCALED,
    categories: Sequence[Category] = (),
    max_det: int = 100,
) -> ImportResult:
    """Build ``mobilelike-det`` for ``num_classes`` × ``boxes`` and place every key."""
    if num_classes < 1 or boxes < 1:
        raise InputError(f"--num-classes and --boxes must be positive, got {num_classes} and {boxes}")
    if box_format not in {f.value for f in BoxFormat}:
        raise InputError(f"--box-format {box_format!r}: choose xywh or xyxy")
    if categories and len(categories) != num_classes:
        raise InputError(f"--categories names {len(categories)} classes but --num-classes is {num_classes}")
    cats = tuple(categories) or tuple(Category(i, f"class{i}") for i in range(num_classes))
    model = mobilelike_det(
        categories=cats, boxes=boxes, box_format=box_format, boxes_scaled=boxes_scaled, max_det=max_det
    )
    place(model, state, path)
    scaled = ", boxes scaled by loc_layers" if boxes_scaled else ""
    return ImportResult(
        model=model, summary=f"mobilelike-det ({num_classes} classes, {boxes} boxes/cell, {box_format}{scaled})"
    )
