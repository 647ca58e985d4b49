"""Synthetic COCO-format detection sets: simple shapes on textured backgrounds, for fast tests and the demo.

Every image holds a few circles, squares and triangles of varied size and colour on a random textured
background; the instances JSON follows the official COCO layout, so every COCO code path reads it.
The output depends only on the seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from objectix_edge.errors import InputError
from objectix_edge.fileio import atomic_path, make_output_dir, write_json_atomic

SYNTH_CATEGORIES = ({"id": 1, "name": "circle"}, {"id": 2, "name": "square"}, {"id": 3, "name": "triangle"})
GAP = 2  # px between shapes: no shape hides part of another, so every label is unambiguous


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Low-frequency colour noise + a gradient + fine grain: texture without shape-like blobs."""
    coarse = rng.integers(40, 216, size=(max(2, h // 40), max(2, w // 40), 3)).astype(np.float32)
    base = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    ramp = np.linspace(-30, 30, w, dtype=np.float32)[None, :, None] * rng.uniform(-1, 1)
    grain = rng.normal(0, 12, size=(h, w, 3)).astype(np.float32)
    return np.clip(base + ramp + grain, 0, 255).astype(np.uint8)


def _apart(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """True when the [x, y, w, h] boxes are at least GAP pixels apart."""
    return (
        a[0] + a[2] + GAP <= b[0] or b[0] + b[2] + GAP <= a[0] or a[1] + a[3] + GAP <= b[1] or b[1] + b[3] + GAP <= a[1]
    )


def _draw(
    img: np.ndarray, cat: int, x: int, y: int, s: int, colour: tuple[int, int, int]
) -> tuple[float, float, float, float]:
    """Draw shape ``cat`` filling the s×s square at (x, y); returns its tight [x, y, w, h] box."""
    if cat == 1:
        cv2.circle(img, (x + s // 2, y + s // 2), s // 2, colour, -1, cv2.LINE_AA)
    elif cat == 2:
        cv2.rectangle(img, (x, y), (x + s - 1, y + s - 1), colour, -1)
    else:
        pts = np.array([[x + s // 2, y], [x, y + s - 1], [x + s - 1, y + s - 1]], np.int32)
        cv2.fillPoly(img, [pts], colour, cv2.LINE_AA)
    return float(x), float(y), float(s), float(s)


def _colour(rng: np.random.Generator, img: np.ndarray, x: int, y: int, s: int) -> tuple[int, int, int]:
    """A saturated colour far from the background under the shape, so it stays separable."""
    under = img[y : y + s, x : x + s].reshape(-1, 3).mean(0)
    for _ in range(20):
        c = rng.integers(0, 256, size=3)
        if np.abs(c - under).sum() > 180:
            break
    return int(c[0]), int(c[1]), int(c[2])


def _one_image(
    rng: np.random.Generator, h: int, w: int, per_image: tuple[int, int] = (2, 5)
) -> tuple[np.ndarray, list[tuple[int, tuple[float, ...]]]]:
    single = per_image == (1, 1)  # one shape per image (whole-image classification): large, on a plain background
    img = np.full((h, w, 3), rng.integers(0, 256, size=3), np.uint8) if single else _background(rng, h, w)
    objects: list[tuple[int, tuple[float, ...]]] = []
    short = min(h, w)
    low, high = (short * 2 // 5, short * 4 // 5) if single else (max(8, short // 10), max(9, short * 2 // 5))
    for _ in range(int(rng.integers(per_image[0], per_image[1] + 1))):
        for _attempt in range(30):
            s = int(rng.integers(low, high))
            x, y = int(rng.integers(0, w - s)), int(rng.integers(0, h - s))
            if all(_apart((x, y, s, s), box) for _, box in objects):
                cat = int(rng.integers(1, 4))
                objects.append((cat, _draw(img, cat, x, y, s, _colour(rng, img, x, y, s))))
                break
    return img, objects


def synth_coco_dict(
    num_images: int, seed: int, image_size: tuple[int, int], per_image: tuple[int, int] = (2, 5)
) -> tuple[dict, list[np.ndarray]]:
    """Build the instances dict and the BGR images in memory."""
    h, w = image_size
    rng = np.random.default_rng(seed)
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    arrays: list[np.ndarray] = []
    for i in range(num_images):
        img, objects = _one_image(rng, h, w, per_image)
        image_id = i + 1
        images.append(
            {"id": image_id, "file_name": f"{seed:04d}_{image_id:06d}.jpg", "height": h, "width": w, "license": 0}
        )
        for cat, (x, y, bw, bh) in objects:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": cat,
                    "bbox": [x, y, bw, bh],
                    "area": bw * bh,
                    "iscrowd": 0,
                    "segmentation": [[x, y, x + bw, y, x + bw, y + bh, x, y + bh]],
                }
            )
        arrays.append(img)
    data = {
        "info": {"description": f"objectix-edge synthetic shapes (seed {seed})", "version": "1.0"},
        "licenses": [{"id": 0, "name": "generated", "url": ""}],
        "images": images,
        "annotations": annotations,
        "categories": [dict(c, supercategory="shape") for c in SYNTH_CATEGORIES],
    }
    return data, arrays


def write_synthetic_coco(
    out_dir: str | Path,
    num_images: int,
    seed: int = 0,
    image_size: tuple[int, int] = (240, 320),
    per_image: tuple[int, int] = (2, 5),
) -> tuple[Path, Path]:
    """Write ``out_dir/images/*.jpg`` and ``out_dir/annotations/instances.json``; returns both paths."""
    if num_images < 1:
        raise InputError(f"{out_dir}: --images must be at least 1")
    if min(image_size) < 64:
        raise InputError(f"{out_dir}: image size {image_size} is too small; use at least 64x64")
    out = Path(out_dir)
    images_dir, ann_path = out / "images", out / "annotations" / "instances.json"
    data, arrays = synth_coco_dict(num_images, seed, image_size, per_image)
    make_output_dir(images_dir)
    for record, img in zip(data["images"], arrays, strict=True):
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise InputError(f"{images_dir}: could not encode a JPEG; check OpenCV's codecs")
        with atomic_path(images_dir / record["file_name"]) as tmp:
            tmp.write_bytes(buf.tobytes())
    write_json_atomic(ann_path, data)  # written last: a folder with a JSON is complete
    return images_dir, ann_path
