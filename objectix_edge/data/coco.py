"""COCO instances over pycocotools: validation, category selection, detection and ROI datasets.

Labels are contiguous internally (position in the selected categories); the official category ids are
kept for evaluation. Crowd boxes (``iscrowd=1``) never become training targets, as in COCO practice;
COCOeval ignores them on its own at evaluation time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pycocotools.coco import COCO

from objectix_edge.data.drops import count_drops, describe_drops, drop_reason
from objectix_edge.data.transforms import (
    AugmentConfig,
    jitter_box,
    letterbox_sample,
    roi_augment,
    train_detector_transform,
)
from objectix_edge.errors import InputError
from objectix_edge.fileio import read_json
from objectix_edge.modelio.preprocess import normalize
from objectix_edge.modelio.roi_feeds import crop_roi
from objectix_edge.quiet import module_prints_silenced
from objectix_edge.spec import Category, ModelSpec

log = logging.getLogger(__name__)
REQUIRED_KEYS = ("images", "annotations", "categories")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class ImageTargets:
    """One image's non-crowd boxes (x1, y1, x2, y2 in original pixels) and contiguous labels."""

    image_id: int
    path: Path
    boxes: np.ndarray
    labels: np.ndarray


@dataclass
class CocoSource:
    """A validated COCO folder: the pycocotools index plus the selected categories."""

    images_dir: Path
    ann_file: Path
    coco: COCO
    categories: tuple[Category, ...]
    image_ids: list[int] = field(default_factory=list)
    _rotation_said: bool = field(default=False, repr=False)

    @property
    def label_of(self) -> dict[int, int]:
        """Official category id → contiguous label."""
        return {c.id: i for i, c in enumerate(self.categories)}

    def image_path(self, image_id: int) -> Path:
        return self.images_dir / self.coco.imgs[image_id]["file_name"]

    def usable_annotations(self, image_id: int) -> list[dict[str, Any]]:
        """The image's annotations that can be targets or ROIs, of any category: non-crowd and usable
        (data/drops.py: at least 1 px, on the image, a known category; load_coco counted the others)."""
        image, known = self.coco.imgs.get(image_id), set(self.coco.cats)
        return [
            a
            for a in self.coco.imgToAnns.get(image_id, [])
            if not a.get("iscrowd", 0) and drop_reason(a, image, known) is None
        ]

    def read(self, image_id: int) -> np.ndarray:
        """The image, decoded at the size its annotations were made on (the JSON's width × height).

        OpenCV applies an EXIF orientation, so a photo whose JSON size is the stored (unrotated) one
        decodes turned by 90°: it is then read unrotated, as its boxes are, and said once. Any other
        size mismatch would misplace every box: a one-line error naming the image and both sizes.
        """
        path = self.image_path(image_id)
        image = read_image(path)
        info = self.coco.imgs[image_id]
        want = (info.get("width"), info.get("height"))
        if not all(isinstance(v, int) for v in want) or image.shape[1::-1] == want:
            return image
        if image.shape[:2] == want:  # (h, w) of the decoded image = (w, h) of the JSON: EXIF turned it
            unrotated = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
            if unrotated is not None and unrotated.shape[1::-1] == want:
                if not self._rotation_said:
                    self._rotation_said = True
                    log.warning(
                        "%s: its EXIF orientation turns it to %dx%d, but %s gives %dx%d; read unrotated, as its "
                        "boxes are (every image like it is read the same way)",
                        path,
                        image.shape[1],
                        image.shape[0],
                        self.ann_file.name,
                        *want,
                    )
                return unrotated
        raise InputError(
            f"{path}: decoded {image.shape[1]}x{image.shape[0]} but {self.ann_file.name} gives {want[0]}x{want[1]}; "
            "its boxes would be misplaced: fix the width/height in the JSON or replace the image"
        )

    def targets(self, image_id: int) -> ImageTargets:
        """Non-crowd boxes of the selected categories; unusable ones (data/drops.py, counted by load_coco)
        are left out."""
        label_of = self.label_of
        boxes, labels = [], []
        for ann in self.usable_annotations(image_id):
            if ann["category_id"] not in label_of:
                continue
            x, y, w, h = (float(v) for v in ann["bbox"])
            boxes.append((x, y, x + w, y + h))
            labels.append(label_of[ann["category_id"]])
        return ImageTargets(
            image_id,
            self.image_path(image_id),
            np.asarray(boxes, np.float32).reshape(-1, 4),
            np.asarray(labels, np.int64),
        )


def _validate_instances(data: object, ann_file: Path) -> dict:
    fix = "give a COCO instances JSON (keys images, annotations, categories; bbox as [x, y, w, h])"
    if not isinstance(data, dict) or any(not isinstance(data.get(k), list) for k in REQUIRED_KEYS):
        raise InputError(f"{ann_file}: is not a COCO instances file; {fix}")
    for key, needed in (
        ("images", ("id", "file_name")),
        ("categories", ("id", "name")),
        ("annotations", ("image_id", "category_id", "bbox")),
    ):
        for item in data[key][:1000]:
            if not isinstance(item, dict) or any(n not in item for n in needed):
                raise InputError(f"{ann_file}: an entry of '{key}' lacks {'/'.join(needed)}; {fix}")
    for ann in data["annotations"][:1000]:
        if not (isinstance(ann["bbox"], list) and len(ann["bbox"]) == 4):
            raise InputError(f"{ann_file}: annotation {ann.get('id')} has a bbox that is not [x, y, w, h]; {fix}")
    return data


def select_categories(
    all_categories: Sequence[Category], names: Sequence[str] | None, ann_file: Path
) -> tuple[Category, ...]:
    """All categories (sorted by id) or the named subset in the order given."""
    ordered = tuple(sorted(all_categories, key=lambda c: c.id))
    if not names:
        return ordered
    by_name = {c.name: c for c in ordered}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise InputError(f"{ann_file}: has no categories {unknown}; choose from: {', '.join(by_name)}")
    return tuple(by_name[n] for n in names)


def load_coco(images_dir: str | Path, ann_file: str | Path, categories: Sequence[str] | None = None) -> CocoSource:
    """Validate an images folder + instances JSON and index them with pycocotools."""
    images_dir, ann_file = Path(images_dir), Path(ann_file)
    if not images_dir.is_dir():
        raise InputError(f"{images_dir}: image folder not found; pass the folder that holds the images with --data")
    data = _validate_instances(read_json(ann_file, "COCO instances JSON"), ann_file)
    coco = COCO()
    coco.dataset = data
    with module_prints_silenced("pycocotools.coco"):  # it prints progress lines
        coco.createIndex()
    missing = [img["file_name"] for img in data["images"] if not (images_dir / img["file_name"]).is_file()]
    if missing:
        raise InputError(
            f"{images_dir}: {len(missing)} images listed in {ann_file.name} are missing (e.g. {missing[0]}); "
            "pass the matching image folder with --data"
        )
    drops = count_drops(data)
    if drops:
        if data["annotations"] and sum(drops.values()) == len(data["annotations"]):
            raise InputError(f"{ann_file}: no usable annotation left ({describe_drops(drops)}); fix the annotations")
        log.warning("%s: %s", ann_file, describe_drops(drops))
    cats = select_categories([Category(int(c["id"]), str(c["name"])) for c in data["categories"]], categories, ann_file)
    return CocoSource(images_dir, ann_file, coco, cats, sorted(coco.imgs))


def read_image(path: Path) -> np.ndarray:
    """BGR uint8 image or an InputError naming the file."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise InputError(
            f"{path}: cannot be decoded as an image; replace it, or remove it from the folder and its annotations"
        )
    return img


def roi_samples(source: CocoSource) -> list[tuple[int, int]]:
    """(image id, annotation index within that image's targets) for every usable box."""
    out: list[tuple[int, int]] = []
    for image_id in source.image_ids:
        n = len(source.targets(image_id).labels)
        out.extend((image_id, k) for k in range(n))
    return out


class EpochSeeded:
    """A dataset whose sample ``index`` draws its randomness from ``Generator([seed, epoch, index])``: it does
    not depend on worker count, rank or interruption, and ``set_epoch`` is all a loop needs to call."""

    samples: list[Any]
    epoch: int = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)


class DetectionDataset(EpochSeeded):
    """Letterboxed, normalized images with boxes in input pixels; augmented when ``train`` is set.

    A sample's randomness is drawn from ``Generator([seed, epoch, index])``, so it does not depend on
    worker count, rank or interruption: ``set_epoch`` is all a loop needs to call.
    """

    def __init__(
        self, source: CocoSource, spec: ModelSpec, train: bool, seed: int = 0, augment: AugmentConfig | None = None
    ) -> None:
        self.source, self.spec, self.train, self.seed = source, spec, train, seed
        self.augment = augment or AugmentConfig()
        self.samples = list(source.image_ids)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        t = self.source.targets(self.samples[index])
        image = self.source.read(t.image_id)
        if self.train:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            image, boxes, labels = train_detector_transform(
                image, t.boxes, t.labels, self.spec.input_size, rng, self.augment, self.spec.pad_value
            )
        else:
            image, boxes = letterbox_sample(image, t.boxes, self.spec.input_size, self.spec.pad_value)
            labels = t.labels
        return {
            "images": normalize(image, self.spec),
            "boxes": boxes.astype(np.float32),
            "labels": labels.astype(np.int64),
        }


class RoiDataset(EpochSeeded):
    """One sample per non-crowd box: the crop with context + ROI mask, made by modelio.roi_feeds.crop_roi.

    Training and inference share the crop code; training adds box jitter and a horizontal flip.
    """

    def __init__(self, source: CocoSource, spec: ModelSpec, train: bool, seed: int = 0) -> None:
        self.source, self.spec, self.train, self.seed = source, spec, train, seed
        self.samples = roi_samples(source)

    def __getitem__(self, index: int) -> dict[str, np.ndarray | np.int64]:
        image_id, k = self.samples[index]
        t = self.source.targets(image_id)
        box, label = t.boxes[k], int(t.labels[k])
        image = self.source.read(t.image_id)
        if self.train:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            box = jitter_box(box, rng)
            h, w = image.shape[:2]
            box = np.clip(box, 0, [w, h, w, h]).astype(np.float32)
        crop, mask = crop_roi(image, box, self.spec)
        if self.train:
            crop, mask = roi_augment(crop, mask, rng)
        return {"images": crop, "roi_mask": mask, "labels": np.int64(label)}
