"""One way to run a model over a labelled image set, and one way to write its detections as COCO rows.

eval, parity, deploy, bench accuracy and ``calibrate --max-drop`` all score through here, so the same
artifact on the same images gives the same figure in each of them:
- ``run_batch``: one call with the artifact's input dtypes; a fixed-batch artifact gets its batch cut to
  its size and the last call padded by repeating the last sample (real data, dropped from the output);
- ``detector_batches`` / ``detect``: images in id order, ``batch`` at a time, rows in input pixels with
  each image's Letterbox (parity matches rows in input pixels; COCO rows are in original pixels);
- ``coco_rows``: detections in the official COCO results format, unrounded (rounding scores to 1e-5
  makes ties that reorder COCOeval's ranking);
- ``roi_batches`` / ``classify``: every usable ground-truth ROI of the images (the boxes CocoSource.targets
  keeps), at most ``batch`` ROIs a call; a model that takes any image size gets one size per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from objectix_edge.data.coco import CocoSource
from objectix_edge.modelio.postprocess import to_original
from objectix_edge.modelio.preprocess import Letterbox, preprocess_detector_batch
from objectix_edge.modelio.roi_feeds import preprocess_masked, preprocess_rois
from objectix_edge.runtime.base import Runner
from objectix_edge.spec import ModelSpec, RoiMode

DEFAULT_CONF = 0.001  # COCO practice: keep low-score boxes, they only add recall at the tail


def run_batch(runner: Runner, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """The first output of ``runner`` on ``feeds`` (any number of samples), cast to the artifact's dtypes."""
    inputs = runner.inputs()
    feeds = {i.name: np.ascontiguousarray(feeds[i.name], dtype=i.dtype) for i in inputs}
    n = len(feeds[inputs[0].name])
    fixed = inputs[0].shape[0]
    if fixed in (-1, n):
        return np.asarray(next(iter(runner.infer(feeds).values())))
    outs = []
    for start in range(0, n, fixed):
        part = {k: v[start : start + fixed] for k, v in feeds.items()}
        short = fixed - len(part[inputs[0].name])
        if short:
            part = {k: np.concatenate([v, np.repeat(v[-1:], short, axis=0)]) for k, v in part.items()}
        outs.append(np.asarray(next(iter(runner.infer(part).values())))[: fixed - short])
    return np.concatenate(outs)


@dataclass(frozen=True)
class DetectorBatch:
    image_ids: Sequence[int]
    images: np.ndarray  # [B, 3, H, W] float32, the spec's preprocessing
    letterboxes: Sequence[Letterbox]


def detector_batches(
    source: CocoSource, image_ids: Sequence[int], spec: ModelSpec, batch: int
) -> Iterator[DetectorBatch]:
    """The images, ``batch`` at a time, preprocessed as the spec says (decoded lazily)."""
    return frame_batches(((i, source.read(i)) for i in image_ids), spec, batch)


def frame_batches(frames: Iterable[tuple[int, np.ndarray]], spec: ModelSpec, batch: int) -> Iterator[DetectorBatch]:
    """(id, BGR image) pairs — labelled images or frames of footage — ``batch`` at a time, preprocessed."""
    size, pending = max(1, batch), []
    for item in frames:
        pending.append(item)
        if len(pending) == size:
            x, boxes = preprocess_detector_batch([img for _, img in pending], spec)
            yield DetectorBatch([i for i, _ in pending], x, boxes)
            pending = []
    if pending:
        x, boxes = preprocess_detector_batch([img for _, img in pending], spec)
        yield DetectorBatch([i for i, _ in pending], x, boxes)


def detect(runner: Runner, batches: Iterable[DetectorBatch]) -> Iterator[tuple[int, np.ndarray, Letterbox]]:
    """(image id, ``[max_det, 6]`` rows in input pixels, Letterbox) for every image of ``batches``."""
    name = runner.spec.input_names[0]
    for b in batches:
        out = run_batch(runner, {name: b.images}).astype(np.float32, copy=False)
        yield from zip(b.image_ids, out, b.letterboxes, strict=True)


def detect_frames(
    runner: Runner, frames_bgr: Sequence[np.ndarray], conf: float = DEFAULT_CONF
) -> list[tuple[np.ndarray, np.ndarray, Letterbox]]:
    """Unlabelled frames (footage) → per frame (rows in input pixels, rows above ``conf`` in original
    pixels, Letterbox), through the same batched call as labelled images."""
    if not frames_bgr:
        return []
    x, boxes = preprocess_detector_batch(list(frames_bgr), runner.spec)
    out = run_batch(runner, {runner.spec.input_names[0]: x}).astype(np.float32, copy=False)
    return [(rows, to_original(rows, lb, conf), lb) for rows, lb in zip(out, boxes, strict=True)]


def top_boxes(rows: np.ndarray, top: int, min_side: float = 0.0) -> np.ndarray:
    """The ``top`` highest-scoring boxes ``[N, 4]`` (original pixels) whose sides are ≥ ``min_side``: the
    ROIs a classifier gets when only a detector says where the objects are."""
    rows = np.asarray(rows, np.float32).reshape(-1, 6)
    keep = rows[(rows[:, 2] - rows[:, 0] >= min_side) & (rows[:, 3] - rows[:, 1] >= min_side)]
    order = np.lexsort((keep[:, 1], keep[:, 0], -keep[:, 4]))  # score, then position: a stable choice
    return keep[order][:top, :4]


def coco_rows(
    rows: np.ndarray, lb: Letterbox, image_id: int, spec: ModelSpec, conf: float = DEFAULT_CONF
) -> list[dict[str, Any]]:
    """Rows in input pixels → COCO results (original pixels, official ids); boxes clipped to zero size (e.g.
    lying in the letterbox padding) are left out: COCOeval cannot score them."""
    cats = spec.categories
    return [
        {
            "image_id": int(image_id),
            "category_id": cats[int(c)].id,
            "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
            "score": float(s),
        }
        for x1, y1, x2, y2, s, c in to_original(rows, lb, conf).tolist()
        if x2 > x1 and y2 > y1
    ]


def detect_coco(
    runner: Runner, source: CocoSource, image_ids: Sequence[int], batch: int, conf: float = DEFAULT_CONF
) -> list[dict[str, Any]]:
    """COCO results of ``runner`` on ``image_ids``."""
    out: list[dict[str, Any]] = []
    for image_id, rows, lb in detect(runner, detector_batches(source, image_ids, runner.spec, batch)):
        out += coco_rows(rows, lb, image_id, runner.spec, conf)
    return out


@dataclass(frozen=True)
class RoiBatch:
    feeds: dict[str, np.ndarray]
    labels: np.ndarray  # the model's contiguous labels
    image_ids: np.ndarray


def _image_rois(
    source: CocoSource, image_id: int, spec: ModelSpec, roi_mask: str, only: set[int] | None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One image's usable ROIs of the model's categories (``only``: of these category ids) → feeds, labels."""
    label_of = {c.id: i for i, c in enumerate(spec.categories)}
    anns = [
        a
        for a in source.usable_annotations(image_id)
        if a["category_id"] in label_of and (only is None or a["category_id"] in only)
    ]
    if not anns:
        return {}, np.zeros(0, np.int64)
    labels = np.asarray([label_of[a["category_id"]] for a in anns], np.int64)
    image = source.read(image_id)
    if roi_mask == "segmentation" and spec.roi_mode == RoiMode.FULL_IMAGE:
        return preprocess_masked(image, [source.coco.annToMask(a) for a in anns], spec), labels
    boxes = np.asarray([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)], np.float32)
    return preprocess_rois(image, boxes, spec), labels


def roi_batches(
    source: CocoSource,
    image_ids: Sequence[int],
    spec: ModelSpec,
    batch: int,
    roi_mask: str = "box",
    only: dict[int, set[int]] | None = None,
) -> Iterator[RoiBatch]:
    """Every usable ROI of ``image_ids`` whose category id is the model's, in order, ``batch`` a batch (one
    input size a batch). ``only`` maps an image id to the category ids wanted there (ObjectiX's protocol)."""
    size, first = max(1, batch), spec.input_names[0]
    pending: list[tuple[dict[str, np.ndarray], np.ndarray, int]] = []
    held = 0

    def flush() -> RoiBatch:
        nonlocal held
        feeds = {k: np.concatenate([f[k] for f, _, _ in pending]) for k in spec.input_names}
        labels = np.concatenate([lab for _, lab, _ in pending])
        ids = np.concatenate([np.full(len(lab), i, np.int64) for _, lab, i in pending])
        pending.clear()
        held = 0
        return RoiBatch(feeds, labels, ids)

    for image_id in image_ids:
        wanted = None if only is None else only.get(image_id, set())
        feeds, labels = _image_rois(source, image_id, spec, roi_mask, wanted)
        start = 0
        while start < len(labels):
            if pending and pending[0][0][first].shape[1:] != feeds[first].shape[1:]:
                yield flush()
            stop = start + size - held
            pending.append(({k: v[start:stop] for k, v in feeds.items()}, labels[start:stop], image_id))
            held += len(labels[start:stop])
            start = stop
            if held == size:
                yield flush()
    if pending:
        yield flush()


def classify(runner: Runner, batches: Iterable[RoiBatch]) -> Iterator[tuple[RoiBatch, np.ndarray]]:
    """Each batch with its logits ``[N, num_classes]``."""
    for b in batches:
        yield b, run_batch(runner, b.feeds)
