"""``objx-edge import``'s options → the keyword arguments of one format's importer (each takes its own)."""

from __future__ import annotations

from typing import Any

from objectix_edge.categories import categories_from_names
from objectix_edge.errors import InputError


def importer_options(
    fmt: str,
    categories: str | None,
    *,
    arch: str,
    imgsz: int,
    num_classes: int,
    boxes: int,
    box_format: str,
    boxes_scaled: bool,
    max_side: int,
) -> dict[str, Any]:
    """The options format ``fmt`` reads; ``categories``: comma-separated class names in head order
    (required by torchvision-classifier, which has no names of its own)."""

    cats = categories_from_names(categories) if categories else None
    if fmt == "objectix":
        return {"categories": cats, "max_side": max_side}
    if fmt == "torchvision-classifier":
        if not cats:
            raise InputError("torchvision-classifier needs --categories a,b,c (the head's classes, in order)")
        return {"categories": cats, "arch": arch, "imgsz": imgsz}
    return {
        "num_classes": num_classes,
        "boxes": boxes,
        "box_format": box_format,
        "boxes_scaled": boxes_scaled,
        "categories": cats or (),
    }
