"""Split one COCO set into calibration images and held-out images (two instances JSONs, same folder).

DESIGN.md asks for budgets measured on images the calibration did not see; deploy takes one --data,
so it writes the split down (``splits/calib.json``, ``splits/holdout.json``) and every later step
reads it, which also makes the split visible and reusable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.errors import InputError
from objectix_edge.fileio import read_json, write_json_atomic

MIN_HOLDOUT = 2


@dataclass(frozen=True)
class Split:
    calib_ann: Path
    holdout_ann: Path
    calib_images: int
    holdout_images: int


def _subset(data: dict[str, Any], ids: set[int]) -> dict[str, Any]:
    return {
        **{k: v for k, v in data.items() if k not in ("images", "annotations")},
        "images": [im for im in data["images"] if im["id"] in ids],
        "annotations": [a for a in data.get("annotations", []) if a["image_id"] in ids],
    }


def split_coco(ann: Path, out_dir: Path, calib_images: int, seed: int = 0) -> Split:
    """Seeded split of the annotated images: at most ``calib_images`` for calibration, at least half held out."""
    data = read_json(ann, "COCO instances JSON")
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise InputError(f"{ann}: not a COCO instances JSON (no 'images' list); pass a valid --ann")
    annotated = sorted({int(a["image_id"]) for a in data.get("annotations", []) if not a.get("iscrowd", 0)})
    if len(annotated) < 2 * MIN_HOLDOUT:
        raise InputError(
            f"{ann}: only {len(annotated)} annotated images; deploy needs at least {2 * MIN_HOLDOUT} "
            "(calibration + held-out): give a larger --data"
        )
    order = np.random.default_rng(seed).permutation(len(annotated))
    n_calib = min(calib_images, len(annotated) // 2)
    calib = {annotated[i] for i in order[:n_calib]}
    holdout = set(annotated) - calib
    paths = (out_dir / "calib.json", out_dir / "holdout.json")
    write_json_atomic(paths[0], _subset(data, calib))
    write_json_atomic(paths[1], _subset(data, holdout))
    return Split(paths[0], paths[1], len(calib), len(holdout))
