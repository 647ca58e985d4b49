"""Whole-image classification data from a COCO folder, and the ObjectiX fine-tuning windows.

``single_category_images``: the 4-class project's selection rule: an image is a sample of class c when
**all** its annotations are of category c and c is one of the chosen categories (an image with a bird
and a boat, or a bird and a person, is left out). ``ClassifyDataset`` trains with that project's
transforms: stretch to the spec's size → random resized crop (224/256 of it) → horizontal flip.
``ObjectixWindowDataset``: one sample per instance: a window of random height and width (160-1000 px,
within the image) that contains the instance's box, with its segmentation mask, as ObjectiX's reader fed it.
"""

from __future__ import annotations

import numpy as np

from objectix_edge.data.coco import CocoSource, EpochSeeded
from objectix_edge.data.transforms import random_resized_crop
from objectix_edge.errors import InputError
from objectix_edge.modelio.preprocess import Letterbox, fit, normalize, preprocess_image, resize_image
from objectix_edge.modelio.roi_feeds import box_mask, preprocess_masked
from objectix_edge.spec import ModelSpec

WINDOW_SIDES = (160, 1000)


def single_category_images(source: CocoSource) -> list[tuple[int, int]]:
    """(image id, contiguous label) of the images whose annotations are all of one chosen category."""
    label_of = source.label_of
    out = []
    for image_id in source.image_ids:
        cats = {int(a["category_id"]) for a in source.coco.imgToAnns.get(image_id, [])}
        if len(cats) == 1 and (cat := next(iter(cats))) in label_of:
            out.append((image_id, label_of[cat]))
    return out


def train_crop_size(spec: ModelSpec) -> int:
    """The random-resized-crop side: 224 for a 256 input, as the 4-class project trained."""
    return max(8, round(spec.input_size[0] * 224 / 256))


class ClassifyDataset(EpochSeeded):
    """One sample per selected image: ``{"images": CHW float32, "labels": int64}``, seeded per (epoch, index)."""

    def __init__(
        self, source: CocoSource, spec: ModelSpec, train: bool, seed: int = 0, crop_scale: float = 0.08
    ) -> None:
        """``crop_scale``: smallest area fraction of the random resized crop (0.08: torchvision's default,
        what the 4-class project trained with)."""
        if not 0 < crop_scale <= 1:
            raise InputError(f"--crop-scale must be in (0, 1], got {crop_scale}")
        self.source, self.spec, self.train, self.seed = source, spec, train, seed
        self.crop_scale = crop_scale
        self.samples = single_category_images(source)

    def __getitem__(self, index: int) -> dict[str, np.ndarray | np.int64]:
        image_id, label = self.samples[index]
        image = self.source.read(image_id)
        if not self.train:
            x, _ = preprocess_image(image, self.spec)
            return {"images": x, "labels": np.int64(label)}
        rng = np.random.default_rng([self.seed, self.epoch, index])
        fitted, _ = fit(image, self.spec)
        empty = np.zeros((0, 4), np.float32)
        crop, _, _ = random_resized_crop(fitted, empty, np.zeros(0, np.int64), rng, scale=(self.crop_scale, 1.0))
        side = train_crop_size(self.spec)
        crop = resize_image(np.ascontiguousarray(crop), (side, side), self.spec.resize_kernel)
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        return {"images": normalize(np.ascontiguousarray(crop), self.spec), "labels": np.int64(label)}


def window_around(
    box: tuple[float, float, float, float], img_w: int, img_h: int, rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """A window (x1, y1, x2, y2) of random sides in WINDOW_SIDES (within the image) that contains ``box``."""
    x1, y1, x2, y2 = box
    sides = []
    for lo_box, hi_box, limit in ((x1, x2, img_w), (y1, y2, img_h)):
        need = int(np.ceil(hi_box)) - int(np.floor(lo_box))
        low = min(limit, max(WINDOW_SIDES[0], need))
        high = min(limit, max(WINDOW_SIDES[1], low))
        side = int(rng.integers(low, high + 1))
        # Start so that [start, start + side) covers the box where it can, inside the image.
        first = max(0, min(int(np.ceil(hi_box)) - side, limit - side))
        last = max(first, min(int(np.floor(lo_box)), limit - side))
        sides.append((int(rng.integers(first, last + 1)), side))
    (wx, ww), (wy, wh) = sides
    return wx, wy, wx + ww, wy + wh


def instance_mask(full_mask: np.ndarray, bbox: list[float], window: tuple[int, int, int, int]) -> np.ndarray:
    """An instance's mask inside ``window`` (x1, y1, x2, y2 in image pixels): its segmentation where it has one,
    else its COCO ``bbox`` (x, y, w, h; rounded to pixels) by the one box-mask rule, in the window's pixels."""
    wx1, wy1, wx2, wy2 = window
    mask = full_mask[wy1:wy2, wx1:wx2].copy()  # drawn on below: never into the caller's array
    if not mask.any():  # a box-only annotation
        x, y, w, h = (int(round(v)) for v in bbox)
        mh, mw = mask.shape
        # The window's origin is the mask's: x_window = x_image - wx1.
        box_mask((x, y, x + max(1, w), y + max(1, h)), Letterbox(1.0, -wx1, -wy1, mh, mw), mh, mw, out=mask[None])
    return mask


class ObjectixWindowDataset(EpochSeeded):
    """One sample per non-crowd instance: a random window around it, its segmentation mask, its label."""

    def __init__(self, source: CocoSource, spec: ModelSpec, train: bool, seed: int = 0) -> None:
        self.source, self.spec, self.train, self.seed = source, spec, train, seed
        label_of = source.label_of
        self.samples = [
            (image_id, ann)
            for image_id in source.image_ids
            for ann in source.coco.imgToAnns.get(image_id, [])
            if not ann.get("iscrowd", 0) and ann["category_id"] in label_of and min(ann["bbox"][2:]) >= 1
        ]

    def __getitem__(self, index: int) -> dict[str, np.ndarray | np.int64]:
        image_id, ann = self.samples[index]
        image = self.source.read(image_id)
        h, w = image.shape[:2]
        window = (0, 0, w, h)
        if self.train:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            x, y, bw, bh = (float(v) for v in ann["bbox"])
            window = window_around((x, y, x + bw, y + bh), w, h, rng)
        wx1, wy1, wx2, wy2 = window
        mask = instance_mask(self.source.coco.annToMask(ann), ann["bbox"], window)
        feeds = preprocess_masked(np.ascontiguousarray(image[wy1:wy2, wx1:wx2]), [mask], self.spec)
        label = self.source.label_of[ann["category_id"]]
        return {"images": feeds["images"][0], "roi_mask": feeds["roi_mask"][0], "labels": np.int64(label)}
