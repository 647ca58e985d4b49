"""Calibration images: a deterministic, seeded choice of COCO images → ``{input_name: float32}`` batches.

Every image goes through exactly the inference preprocessing (``preprocess_detector`` for a detector,
``crop_roi`` around annotated boxes for the ROI classifier), so the ranges the quantizer sees are the
ranges the deployed model sees. The ids of the chosen images are kept, so the cache can record them
and validation can avoid them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from objectix_edge.data.coco import IMAGE_SUFFIXES, read_image
from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.modelio.preprocess import preprocess_detector
from objectix_edge.modelio.roi_feeds import MIN_ROI_SIDE, crop_roi
from objectix_edge.spec import ModelSpec


@dataclass(frozen=True)
class CalibImage:
    """One candidate image: its id (COCO id, or the file stem without annotations) and its boxes."""

    image_id: int | str
    path: Path
    boxes: tuple[tuple[float, float, float, float], ...] = ()
    labels: tuple[int, ...] = ()


@dataclass(frozen=True)
class CalibDataConfig:
    """Where the images are and how many to use; ``exclude_ids`` keeps validation images out."""

    images_dir: Path
    ann_file: Path | None = None
    num_images: int = 512
    seed: int = 0
    batch_size: int = 8
    rois_per_image: int = 4
    exclude_ids: frozenset[int | str] = field(default_factory=frozenset)


def _image_id_from_stem(stem: str) -> int | str:
    return int(stem) if stem.isdigit() else stem


def list_images(images_dir: Path, ann_file: Path | None, spec: ModelSpec) -> list[CalibImage]:
    """All usable images, sorted by id. Boxes (in ``x1, y1, x2, y2``) come from ``ann_file`` if given."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise InputError(f"{images_dir}: calibration image folder not found; pass a COCO images folder with --data")
    if ann_file is None:
        if spec.task == Task.ROI_CLASSIFY:
            raise InputError(
                f"{images_dir}: the ROI classifier calibrates on annotated boxes; pass the instances JSON with --ann"
            )
        files = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputError(
                f"{images_dir}: holds no images ({', '.join(IMAGE_SUFFIXES)}); pass a folder of calibration images with --data"
            )
        return [CalibImage(_image_id_from_stem(p.stem), p) for p in files]
    return _list_annotated(images_dir, Path(ann_file), spec)


def _list_annotated(images_dir: Path, ann_file: Path, spec: ModelSpec) -> list[CalibImage]:
    if not ann_file.is_file():
        raise InputError(f"{ann_file}: annotation file not found; pass a COCO instances JSON with --ann")
    try:
        data = json.loads(ann_file.read_text(encoding="utf-8"))
        images = {int(im["id"]): im["file_name"] for im in data["images"]}
        anns = data.get("annotations", [])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{ann_file}: not a COCO instances JSON ({exc!r}); pass a valid one") from exc
    index = {cid: i for i, cid in enumerate(spec.category_ids)}
    boxes: dict[int, list[tuple[float, tuple[float, float, float, float], int]]] = {}
    for ann in anns:
        x, y, w, h = (float(v) for v in ann["bbox"])
        if ann.get("iscrowd", 0) or min(w, h) < MIN_ROI_SIDE or ann["category_id"] not in index:
            continue
        boxes.setdefault(int(ann["image_id"]), []).append((w * h, (x, y, x + w, y + h), index[ann["category_id"]]))
    # Missing images are refused, as eval and train refuse them: silently calibrating on fewer is not ok.
    missing = [name for name in images.values() if not (images_dir / name).is_file()]
    if missing and len(missing) < len(images):
        raise InputError(
            f"{images_dir}: {len(missing)} images listed in {ann_file.name} are missing (e.g. {missing[0]}); "
            "pass the matching image folder with --data"
        )
    out = []
    for image_id in sorted(images):
        path = images_dir / images[image_id]
        if not path.is_file():
            continue
        # Largest boxes first, ties broken by coordinates: a stable order for a stable ROI choice.
        found = sorted(boxes.get(image_id, []), key=lambda t: (-t[0], t[1]))
        if spec.task == Task.ROI_CLASSIFY and not found:
            continue
        out.append(CalibImage(image_id, path, tuple(b for _, b, _ in found), tuple(c for _, _, c in found)))
    if not out:
        raise InputError(f"{ann_file}: no annotated image of it is in {images_dir}; check --data and --ann")
    return out


def select_images(
    candidates: list[CalibImage], num: int, seed: int, exclude: frozenset[int | str] = frozenset()
) -> list[CalibImage]:
    """A seeded random choice of ``num`` images (fewer if fewer exist), skipping ``exclude``."""
    pool = [c for c in candidates if c.image_id not in exclude]
    if not pool:
        raise InputError("no calibration images left after excluding the validation images; use another folder")
    order = np.random.default_rng(seed).permutation(len(pool))
    return [pool[i] for i in order[: max(1, num)]]


def frame_feeds(
    bgr: np.ndarray, spec: ModelSpec, boxes: Sequence[Sequence[float]] | None, rois_per_image: int
) -> list[dict[str, np.ndarray]]:
    """One decoded image → its preprocessed samples: one for a detector (and for a whole-image classifier
    given ``boxes=None``), one per ROI (the first ``rois_per_image`` of ``boxes``) for a classifier."""
    if spec.task == Task.DETECT or (spec.task == Task.CLASSIFY and boxes is None):
        tensor, _ = preprocess_detector(bgr, spec)
        return [{spec.input_names[0]: tensor}]
    samples = []
    for box in (boxes or ())[:rois_per_image]:
        crop, mask = crop_roi(bgr, box, spec)
        # A whole-image classifier (one input) takes the crop alone.
        samples.append(dict(zip(spec.input_names, (crop, mask), strict=False)))
    return samples


def image_feeds(image: CalibImage, spec: ModelSpec, rois_per_image: int) -> list[dict[str, np.ndarray]]:
    """One image → its preprocessed samples (one for a detector, one per ROI for the classifier)."""
    return frame_feeds(read_image(image.path), spec, image.boxes, rois_per_image)


def batch_samples(
    per_image: Iterable[list[dict[str, np.ndarray]]], batch_size: int, on_image: Callable[[], None] | None = None
) -> Iterator[dict[str, np.ndarray]]:
    """Each image's samples → ``batch_size`` batches in order (an any-size model, ObjectiX: one input size
    a batch); ``on_image`` is called once per image."""
    pending: list[dict[str, np.ndarray]] = []
    for feeds in per_image:
        if pending and feeds and _shapes(feeds[0]) != _shapes(pending[0]):
            yield _stack(pending)
            pending = []
        pending.extend(feeds)
        if on_image is not None:
            on_image()
        while len(pending) >= batch_size:
            yield _stack(pending[:batch_size])
            pending = pending[batch_size:]
    if pending:
        yield _stack(pending)


class CalibReader(Protocol):
    """What calibration needs from a reader (COCO images or footage): the spec, the ids it used, batches."""

    spec: ModelSpec

    @property
    def seed(self) -> int: ...

    @property
    def image_ids(self) -> Sequence[int | str]: ...

    def __len__(self) -> int: ...

    def iter_batches(self, on_image: Callable[[], None] | None = None) -> Iterator[dict[str, np.ndarray]]: ...


class CocoCalibReader:
    """Iterable of ``{input_name: float32[B, ...]}`` batches over a deterministic image choice.

    Iterating twice yields the same batches in the same order. ``image_ids`` lists what was used.
    """

    def __init__(self, spec: ModelSpec, config: CalibDataConfig) -> None:
        self.spec = spec
        self.config = config
        candidates = list_images(config.images_dir, config.ann_file, spec)
        self.images = select_images(candidates, config.num_images, config.seed, config.exclude_ids)

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def image_ids(self) -> list[int | str]:
        return [im.image_id for im in self.images]

    def __len__(self) -> int:
        """Number of images (the unit the progress bar counts)."""
        return len(self.images)

    def iter_batches(self, on_image: Callable[[], None] | None = None) -> Iterator[dict[str, np.ndarray]]:
        per_image = (image_feeds(image, self.spec, self.config.rois_per_image) for image in self.images)
        return batch_samples(per_image, self.config.batch_size, on_image)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        return self.iter_batches()


def _shapes(sample: dict[str, np.ndarray]) -> list[tuple[int, ...]]:
    return [v.shape for v in sample.values()]


def _stack(samples: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.stack([s[name] for s in samples]).astype(np.float32, copy=False) for name in samples[0]}


class OrtCalibrationReader:
    """Adapter: any iterator of feeds → onnxruntime's ``CalibrationDataReader`` protocol (``get_next``).

    ORT checks the protocol structurally (``get_next`` callable), so no ORT import is needed here.
    """

    def __init__(self, batches: Iterator[dict[str, Any]]) -> None:
        self._batches = batches

    def get_next(self) -> dict[str, Any] | None:
        return next(self._batches, None)
