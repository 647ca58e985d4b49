"""Annotations no step can use, counted by reason: never dropped without a word.

A box under 1 px (or with a negative or non-finite size), one entirely outside its image, one of a
category id the file does not define, or one whose image is not in the file cannot become a training
target or a ROI. Each command that loads a COCO file says once how many it dropped and why, and refuses a
file where nothing usable is left.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

REASONS = {
    "no_image": "of images not in the file",
    "unknown_category": "of category ids not in its categories",
    "malformed": "with a non-numeric box",
    "small": "with boxes under 1 px (or negative)",
    "off_image": "with boxes outside their image",
}


def drop_reason(ann: dict[str, Any], image: dict[str, Any] | None, category_ids: set[int]) -> str | None:
    """Why ``ann`` is unusable (a key of REASONS), or None when it is usable."""
    if image is None:
        return "no_image"
    if ann.get("category_id") not in category_ids:
        return "unknown_category"
    try:
        x, y, w, h = (float(v) for v in ann["bbox"])
    except (TypeError, ValueError):
        return "malformed"
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        return "malformed"
    if w < 1 or h < 1:
        return "small"
    width, height = image.get("width"), image.get("height")
    if not (isinstance(width, (int, float)) and isinstance(height, (int, float))):
        return None  # no size recorded: nothing to be outside of
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        return "off_image"
    return None


def count_drops(data: dict[str, Any]) -> Counter[str]:
    """Unusable annotations of a validated COCO dict, by reason."""
    images = {img["id"]: img for img in data["images"]}
    category_ids = {c["id"] for c in data["categories"]}
    reasons = (drop_reason(ann, images.get(ann["image_id"]), category_ids) for ann in data["annotations"])
    return Counter(r for r in reasons if r is not None)


def describe_drops(counts: Counter[str]) -> str:
    """``dropped 3 annotations: 2 with boxes under 1 px (or negative), 1 of category ids not in its categories``."""
    parts = [f"{counts[key]} {text}" for key, text in REASONS.items() if counts.get(key)]
    return f"dropped {sum(counts.values())} annotation(s): {', '.join(parts)}"
