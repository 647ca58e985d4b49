"""Split a COCO instances file into train/val files over the same image folder (seeded, by image)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from objectix_edge.data.coco import _validate_instances
from objectix_edge.errors import InputError
from objectix_edge.fileio import read_json, write_json_atomic


def split_coco(ann_file: str | Path, out_dir: str | Path, val_images: int, seed: int = 0) -> tuple[Path, Path]:
    """Write ``out_dir/train.json`` and ``out_dir/val.json``; ``val_images`` images go to val."""
    ann_file, out_dir = Path(ann_file), Path(out_dir)
    data = _validate_instances(read_json(ann_file, "COCO instances JSON"), ann_file)
    n = len(data["images"])
    if not 0 < val_images < n:
        raise InputError(f"{ann_file}: holds {n} images; --val must be between 1 and {n - 1}")
    order = np.random.default_rng(seed).permutation(n)
    val_ids = {data["images"][i]["id"] for i in order[:val_images]}
    paths = []
    for name, keep in (("train", lambda i: i not in val_ids), ("val", lambda i: i in val_ids)):
        part = dict(data)
        part["images"] = [img for img in data["images"] if keep(img["id"])]
        part["annotations"] = [a for a in data["annotations"] if keep(a["image_id"])]
        path = out_dir / f"{name}.json"
        write_json_atomic(path, part)
        paths.append(path)
    return paths[0], paths[1]
