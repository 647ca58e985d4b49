"""Detector → tracker → ROI classifier cascade on one frame, with the time of each stage.

The detector runs on the letterboxed frame; its boxes are mapped back to original pixels. With
tracking, every box above the tracker's floor goes to ByteTrack (``tracking.py``) and the boxes above
``conf`` are shown with their track ids; the second stage (``second_stage.py``) decides which of them
the ROI classifier sees (all of the ``top_k`` best every frame without tracking; tracks due under the
ReclassifyPolicy with it, in the inference thread or on a worker for live sources). All pre/post-
processing is the shared code in ``preprocess.py`` / ``postprocess.py``.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from objectix_edge.cascade.classifier_stats import ClassifierSummary
from objectix_edge.cascade.device_preprocess import DeviceNormalizer, on_cuda
from objectix_edge.cascade.second_stage import SecondStage, as_numpy, classify_probs
from objectix_edge.cascade.track_labels import ReclassifyPolicy, RoiLabel, label_from
from objectix_edge.cascade.tracking import TrackConfig, Tracker
from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.modelio.postprocess import Detection, to_detections, to_original
from objectix_edge.modelio.preprocess import preprocess_detector_batch
from objectix_edge.runtime.base import Runner

__all__ = ["Cascade", "CascadeConfig", "CascadeDetection", "FrameResult", "RoiLabel", "as_numpy", "classify_rois"]


@dataclass(frozen=True)
class CascadeConfig:
    """``conf``: score a box needs to be shown and classified; ``top_k``: most ROIs per classifier call.

    ``track``: ByteTrack settings (None: no tracking, every frame's ``top_k`` best boxes are classified).
    ``reclassify``: when a track is classified again (needs tracking unless ``every`` is 1).
    ``async_classifier``: classifier on its own worker (None: for live sources only); ``queue_size``: its
    pending requests before the oldest is dropped.
    ``device_preprocess``: normalize the detector input (and the ROI classifier's, when it takes tensors) on
    the model's device (None: when it runs on CUDA and takes tensors; True also on the CPU, where it is the
    same arithmetic in torch).
    """

    conf: float = 0.3
    top_k: int = 5
    device_preprocess: bool | None = None
    track: TrackConfig | None = None
    reclassify: ReclassifyPolicy = field(default_factory=ReclassifyPolicy)
    async_classifier: bool | None = None
    queue_size: int = 2

    def __post_init__(self) -> None:
        if not 0.0 <= self.conf < 1.0:
            raise InputError(f"--conf must be in [0, 1), got {self.conf}")
        if self.top_k < 1:
            raise InputError(f"--top-k must be at least 1, got {self.top_k}")
        if self.track is None and self.reclassify.every != 1:
            raise InputError(
                f"--reclassify-every {self.reclassify.every} needs tracking (objects have no identity across frames "
                "without it); drop --no-track or use --reclassify-every 1"
            )
        if self.queue_size < 1:
            raise InputError(f"classifier queue size must be at least 1, got {self.queue_size}")


@dataclass(frozen=True)
class CascadeDetection:
    """A detector box (original pixels), its track id (None without tracking or before ByteTrack confirms
    it) and the classifier's label (None when the box was never classified)."""

    detection: Detection
    roi: RoiLabel | None = None
    track_id: int | None = None


@dataclass(frozen=True)
class FrameResult:
    """Detections of one frame, best first, and milliseconds per stage."""

    detections: list[CascadeDetection]
    timings_ms: dict[str, float]
    # The detector's rows before the shown-box filter (original pixels, score ≥ the tracker's floor or
    # --conf): what a shadow check compares with the original's confident detections.
    candidates: np.ndarray | None = None
    shadow: dict[str, Any] | None = None  # shadow checks finished at this frame (serve/shadow.py)
    health: dict[str, Any] | None = None  # frame age, frozen seconds, drift (stream/health.py)


class Cascade:
    """Runs ``detector`` (and ``classifier`` when given) on BGR frames; the Runners stay owned by the caller.

    A Cascade keeps per-track state: use one per video or camera. ``start(live)`` before a run chooses the
    synchronous or asynchronous second stage, ``close()`` after it stops the worker.
    """

    def __init__(
        self, detector: Runner, classifier: Runner | None = None, config: CascadeConfig = CascadeConfig()
    ) -> None:
        if detector.spec.task != Task.DETECT:
            raise InputError(
                f"{detector.describe()}: is a {detector.spec.task.value} model; --detector needs a detector"
            )
        # ROI classifiers (crop + mask, or frame + mask) and whole-image classifiers, which get the crop alone.
        if classifier is not None and classifier.spec.task not in (Task.ROI_CLASSIFY, Task.CLASSIFY):
            raise InputError(
                f"{classifier.describe()}: is a {classifier.spec.task.value} model; --classifier needs a classifier"
            )
        self.detector = detector
        self.classifier = classifier
        self.config = config
        self.normalizer = _normalizer(detector, config.device_preprocess)
        self.tracker = Tracker(config.track, config.conf) if config.track is not None else None
        self.second = (
            SecondStage(classifier, config.top_k, config.reclassify, self.tracker is not None, config.device_preprocess)
            if classifier is not None
            else None
        )
        self._counter = itertools.count()
        self._detector_checked = False  # feeds are checked on the first call; later frames are alike

    def start(self, live: bool) -> None:
        """Run the classifier asynchronously when configured so (by default: on live sources, with tracking)."""
        wanted = self.config.async_classifier if self.config.async_classifier is not None else live
        if wanted and self.second is not None:
            self.second.start_async(self.config.queue_size)

    def close(self) -> None:
        if self.second is not None:
            self.second.close()

    def summary(self) -> ClassifierSummary | None:
        """The second stage's counters (None without a classifier)."""
        return self.second.summary() if self.second is not None else None

    def __call__(self, image_bgr: np.ndarray, frame_index: int | None = None) -> FrameResult:
        frame = next(self._counter) if frame_index is None else frame_index
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        spec = self.detector.spec
        batch: Any
        if self.normalizer is not None:
            batch, boxes = self.normalizer.frames([image_bgr])  # letterboxed straight into the upload buffer
        else:
            batch, boxes = preprocess_detector_batch([image_bgr], spec)
        t1 = time.perf_counter()
        out = self.detector.infer({spec.input_names[0]: batch}, check=not self._detector_checked)
        self._detector_checked = True
        raw = as_numpy(out[spec.output_names[0]])
        t2 = time.perf_counter()
        floor = self.config.conf if self.config.track is None else min(self.config.track.floor, self.config.conf)
        rows = to_original(raw[0], boxes[0], floor)
        rows = rows[np.argsort(-rows[:, 4], kind="stable")]  # best first: top-K and the shown boxes are prefixes
        t3 = time.perf_counter()
        track_ids: np.ndarray | None = None
        candidates = rows
        if self.tracker is not None:
            ids, closed = self.tracker.update(rows)
            shown = rows[:, 4] > self.config.conf
            rows, track_ids = rows[shown], ids[shown]
            if self.second is not None:
                self.second.forget(closed)
            timings["track"] = (time.perf_counter() - t3) * 1e3
        detections = to_detections(rows, spec)
        timings.update(preprocess=(t1 - t0) * 1e3, detector=(t2 - t1) * 1e3, postprocess=(t3 - t2) * 1e3)
        labels: list[RoiLabel | None] = [None] * len(detections)
        if self.second is not None:
            labels = self.second(frame, image_bgr, rows, track_ids, timings)
        shown_ids: list[int | None] = (
            [None] * len(detections) if track_ids is None else [int(t) if t >= 0 else None for t in track_ids]
        )
        return FrameResult(
            [CascadeDetection(d, r, t) for d, r, t in zip(detections, labels, shown_ids, strict=True)],
            timings,
            candidates,
        )


def _normalizer(detector: Runner, wanted: bool | None) -> DeviceNormalizer | None:
    if wanted is False or (wanted is None and not on_cuda(detector)):
        return None
    if not detector.capabilities.device_tensors:
        raise InputError(
            f"{detector.describe()}: device preprocessing needs a torch or TensorRT runner, not {detector.backend.value}"
        )
    return DeviceNormalizer(detector.spec, detector.device)


def classify_rois(
    classifier: Runner, image_bgr: np.ndarray, boxes: np.ndarray, timings: dict[str, float]
) -> list[RoiLabel]:
    """Classify ``boxes`` (original pixels) of one frame in one batched call; top-1 label per box."""
    probs, t = classify_probs(classifier, image_bgr, boxes)
    timings.update(t)
    return [label_from(p, classifier.spec.categories, None) for p in probs]
