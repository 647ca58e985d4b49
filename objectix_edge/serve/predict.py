"""One image through any artifact (.pt, .onnx, .engine) of any task, by the artifact's own preprocessing.

Classifiers give the full softmax in class order; detectors give ``[x1, y1, x2, y2, score, class]`` rows in
original-image pixels. An ROI classifier takes the ROI as a mask (a single-channel PNG of the image's size,
nonzero = inside) or a box; without either, the whole image is the ROI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from objectix_edge.data.coco import read_image
from objectix_edge.defaults import DEVICE
from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.modelio.postprocess import softmax, to_original
from objectix_edge.modelio.preprocess import preprocess_image
from objectix_edge.modelio.roi_feeds import preprocess_masked, preprocess_rois
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.open import open_runner
from objectix_edge.spec import ModelSpec, RoiMode


@dataclass
class Prediction:
    """What ``predict`` found: probabilities (classifiers) or detection rows (detectors)."""

    spec: ModelSpec
    probabilities: list[float] = field(default_factory=list)
    detections: list[list[float]] = field(default_factory=list)

    def top(self, k: int) -> list[tuple[str, float]]:
        order = np.argsort(-np.asarray(self.probabilities), kind="stable")[:k]
        return [(self.spec.categories[i].name, float(self.probabilities[i])) for i in order]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.spec.name, "task": self.spec.task.value}
        if self.spec.task == Task.DETECT:
            out["detections"] = self.detections
            out["names"] = self.spec.category_names
        else:
            out["probabilities"] = self.probabilities
            out["categories"] = self.spec.category_names
        return out


def read_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A single-channel mask image of size ``shape`` (h, w) → bool array, or a one-line InputError."""
    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if mask is None:
        raise InputError(f"{path}: cannot be decoded as an image; give a single-channel PNG mask")
    if mask.ndim != 2:
        raise InputError(f"{path}: has {mask.shape[2]} channels; give a single-channel PNG mask (nonzero = inside)")
    if mask.shape != shape:
        raise InputError(
            f"{path}: mask is {mask.shape[1]}×{mask.shape[0]} but the image is {shape[1]}×{shape[0]}; "
            "give a mask of the image's size"
        )
    if not mask.any():
        raise InputError(f"{path}: mask is empty (no nonzero pixel); mark the ROI with nonzero values")
    return mask != 0


def mask_box(mask: np.ndarray) -> list[float]:
    """Bounding box (x1, y1, x2, y2) of a mask's nonzero pixels."""
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def roi_feeds(
    image_bgr: np.ndarray, spec: ModelSpec, mask: np.ndarray | None, box: Sequence[float] | None
) -> dict[str, np.ndarray]:
    """The ROI classifier's batch of one: by mask (full image) or by box / the mask's box (crop)."""
    if mask is not None and spec.roi_mode == RoiMode.FULL_IMAGE:
        return preprocess_masked(image_bgr, [mask], spec)
    h, w = image_bgr.shape[:2]
    roi = list(box) if box is not None else mask_box(mask) if mask is not None else [0.0, 0.0, float(w), float(h)]
    return preprocess_rois(image_bgr, [roi], spec)


def predict_image(
    runner: Runner, image_bgr: np.ndarray, mask: np.ndarray | None = None, box: Sequence[float] | None = None
) -> Prediction:
    """Run one BGR image through ``runner`` by its spec's preprocessing."""

    spec = runner.spec
    if spec.task == Task.DETECT:
        x, lb = preprocess_image(image_bgr, spec)
        out = runner.infer({spec.input_names[0]: x[None]})[spec.output_names[0]]
        rows = to_original(np.asarray(out)[0], lb)
        rows = rows[np.argsort(-rows[:, 4], kind="stable")]
        return Prediction(spec, detections=[[float(v) for v in r] for r in rows])
    if spec.task == Task.CLASSIFY:
        x, _ = preprocess_image(image_bgr, spec)
        feeds = {spec.input_names[0]: x[None]}
    else:
        feeds = roi_feeds(image_bgr, spec, mask, box)
    logits = np.asarray(runner.infer(feeds)[spec.output_names[0]])
    return Prediction(spec, probabilities=[float(p) for p in softmax(logits[0])])


def parse_box(text: str) -> list[float]:
    """``"x1,y1,x2,y2"`` → four floats with x2 > x1 and y2 > y1, or a one-line InputError."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or values[2] <= values[0] or values[3] <= values[1]:
        raise InputError(f"--box {text!r}: give X1,Y1,X2,Y2 in image pixels with X2 > X1 and Y2 > Y1")
    return values


def predict_file(
    artifact: Path, image: Path, mask: Path | None = None, box: str | None = None, device: str = DEVICE
) -> Prediction:
    """Open ``artifact``, read ``image`` (and ``mask``), predict; every bad input is a one-line error."""

    if mask is not None and box is not None:
        raise InputError("give --mask or --box, not both")
    if not Path(image).is_file():
        raise InputError(f"{image}: image not found; check the path")
    bgr = read_image(Path(image))
    roi_mask = read_mask(mask, bgr.shape[:2]) if mask is not None else None
    roi_box = parse_box(box) if box is not None else None
    h, w = bgr.shape[:2]
    if roi_box is not None and (roi_box[2] <= 0 or roi_box[3] <= 0 or roi_box[0] >= w or roi_box[1] >= h):
        raise InputError(f"--box {box}: lies outside {image} ({w}x{h} pixels); give a box that overlaps the image")
    with open_runner(artifact, device=device) as runner:
        if runner.spec.task != Task.ROI_CLASSIFY and (roi_mask is not None or roi_box is not None):
            raise InputError(f"{artifact}: is a {runner.spec.task.value} model; --mask/--box apply to ROI classifiers")
        return predict_image(runner, bgr, roi_mask, roi_box)
