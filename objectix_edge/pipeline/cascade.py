"""Detector → ROI classifier cascade on one frame, with the time of each stage.

The detector runs on the letterboxed frame; its boxes are mapped back to original pixels; the ``top_k``
highest-scoring boxes are cropped with context and sent to the ROI classifier in ONE batched call. All
pre/post-processing is the shared code in ``preprocess.py`` / ``postprocess.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.pipeline.device_preprocess import DeviceNormalizer, on_cuda, takes_device_tensors
from objectix_edge.pipeline.postprocess import Detection, to_detections, to_original
from objectix_edge.pipeline.preprocess import letterbox_batch, preprocess_detector_batch, preprocess_rois
from objectix_edge.runtime.base import Runner


@dataclass(frozen=True)
class CascadeConfig:
    """``conf``: detector score threshold; ``top_k``: how many boxes (best first) the classifier sees.

    ``device_preprocess``: normalize the detector input on the detector's device (None: when it runs on
    CUDA and takes tensors; True also on the CPU, where it is the same arithmetic in torch).
    """

    conf: float = 0.3
    top_k: int = 5
    device_preprocess: bool | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.conf < 1.0:
            raise InputError(f"--conf must be in [0, 1), got {self.conf}")
        if self.top_k < 1:
            raise InputError(f"--top-k must be at least 1, got {self.top_k}")


@dataclass(frozen=True)
class RoiLabel:
    """The ROI classifier's top-1 answer for one box."""

    class_index: int
    category_id: int
    name: str
    score: float


@dataclass(frozen=True)
class CascadeDetection:
    """A detector box (original pixels) and, for the top-K boxes, the classifier's label."""

    detection: Detection
    roi: RoiLabel | None = None


@dataclass(frozen=True)
class FrameResult:
    """Detections of one frame, best first, and milliseconds per stage."""

    detections: list[CascadeDetection]
    timings_ms: dict[str, float]


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Cascade:
    """Runs ``detector`` (and ``classifier`` when given) on BGR frames; the Runners stay owned by the caller."""

    def __init__(
        self, detector: Runner, classifier: Runner | None = None, config: CascadeConfig = CascadeConfig()
    ) -> None:
        if detector.spec.task != Task.DETECT:
            raise InputError(
                f"{detector.describe()}: is a {detector.spec.task.value} model; --detector needs a detector"
            )
        if classifier is not None and classifier.spec.task != Task.ROI_CLASSIFY:
            raise InputError(
                f"{classifier.describe()}: is a {classifier.spec.task.value} model; --classifier needs an ROI classifier"
            )
        self.detector = detector
        self.classifier = classifier
        self.config = config
        self.normalizer = _normalizer(detector, config.device_preprocess)

    def __call__(self, image_bgr: np.ndarray) -> FrameResult:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        spec = self.detector.spec
        batch: Any
        if self.normalizer is not None:
            boxed, boxes = letterbox_batch([image_bgr], spec)
            batch = self.normalizer(boxed)
        else:
            batch, boxes = preprocess_detector_batch([image_bgr], spec)
        t1 = time.perf_counter()
        raw = as_numpy(self.detector.infer({spec.input_names[0]: batch})[spec.output_names[0]])
        t2 = time.perf_counter()
        rows = to_original(raw[0], boxes[0], self.config.conf)
        rows = rows[np.argsort(-rows[:, 4], kind="stable")]  # best first: top-K is a prefix
        detections = to_detections(rows, spec)
        t3 = time.perf_counter()
        timings.update(preprocess=(t1 - t0) * 1e3, detector=(t2 - t1) * 1e3, postprocess=(t3 - t2) * 1e3)
        labels: list[RoiLabel | None] = [None] * len(detections)
        if self.classifier is not None and detections:
            top = rows[: self.config.top_k, :4]
            labels[: len(top)] = classify_rois(self.classifier, image_bgr, top, timings)
        return FrameResult([CascadeDetection(d, r) for d, r in zip(detections, labels, strict=True)], timings)


def _normalizer(detector: Runner, wanted: bool | None) -> DeviceNormalizer | None:
    if wanted is False or (wanted is None and not on_cuda(detector)):
        return None
    if not takes_device_tensors(detector):
        raise InputError(
            f"{detector.describe()}: device preprocessing needs a torch or TensorRT runner, not {detector.backend.value}"
        )
    return DeviceNormalizer(detector.spec, detector.device)


def as_numpy(value: Any) -> np.ndarray:
    """A runner output as a host array (torch and TensorRT runners fed tensors return device tensors)."""
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def classify_rois(
    classifier: Runner, image_bgr: np.ndarray, boxes: np.ndarray, timings: dict[str, float]
) -> list[RoiLabel]:
    """Crop ``boxes`` (original pixels) with context and classify them in one batched call."""
    spec = classifier.spec
    t0 = time.perf_counter()
    feeds = preprocess_rois(image_bgr, boxes.tolist(), spec)
    t1 = time.perf_counter()
    logits = as_numpy(classifier.infer(feeds)[spec.output_names[0]]).astype(np.float32, copy=False)
    probs = _softmax(logits)
    t2 = time.perf_counter()
    timings.update(roi_crop=(t1 - t0) * 1e3, classifier=(t2 - t1) * 1e3)
    best = probs.argmax(axis=1)
    cats = spec.categories
    return [RoiLabel(int(c), cats[int(c)].id, cats[int(c)].name, float(probs[i, c])) for i, c in enumerate(best)]
