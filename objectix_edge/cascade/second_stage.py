"""The cascade's second stage: which boxes the ROI classifier sees on a frame, and the label each box shows.

Three modes:
- **every box** (no tracking): the ``top_k`` best boxes of every frame are classified in one batched
  call; each label comes from that frame (the behaviour before tracking existed).
- **tracked**: only tracks due under the ReclassifyPolicy are classified (at most ``top_k`` per frame,
  best score first), in the inference thread; files and folders use it, so the same frames are
  classified whatever the machine's speed.
- **async**: as tracked, but the batch goes to a ClassifierWorker and the answer is folded in when it
  arrives (live sources): the detector never waits; a full queue drops its oldest request.

The classifier is called through ``preprocess_rois`` only (``classify_probs``), so every ROI mode the
ModelSpec knows (crop with context, full frame + mask) works unchanged.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from objectix_edge.cascade.classifier_stats import ClassifierStats, ClassifierSummary
from objectix_edge.cascade.classify_worker import ClassifierWorker, ClassifyAnswer, ClassifyRequest
from objectix_edge.cascade.device_preprocess import DeviceNormalizer, on_cuda
from objectix_edge.cascade.track_labels import ReclassifyPolicy, RoiLabel, TrackLabels, label_from
from objectix_edge.enums import SecondStageMode
from objectix_edge.modelio.postprocess import softmax
from objectix_edge.modelio.roi_feeds import preprocess_rois
from objectix_edge.runtime.base import Runner


def as_numpy(value: Any) -> np.ndarray:
    """A runner output as a host array (torch and TensorRT runners fed tensors return device tensors)."""
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def classify_probs(
    classifier: Runner,
    image_bgr: np.ndarray,
    boxes: np.ndarray,
    normalizer: DeviceNormalizer | None = None,
    check: bool = True,
) -> tuple[np.ndarray, dict[str, float]]:
    """Preprocess ``boxes`` (original pixels) of one frame and classify them in one batched call:
    (softmax probabilities [K, C], milliseconds of ``roi_crop`` and ``classifier``).

    ``normalizer``: the classifier's DeviceNormalizer: crops go up as uint8 and are normalized there.
    ``check``: as for ``Runner.infer`` (a stage that has had one call checked passes False)."""
    spec = classifier.spec
    t0 = time.perf_counter()
    roi_boxes = np.asarray(boxes).tolist()
    feeds: dict[str, Any] = (
        normalizer.rois(image_bgr, roi_boxes) if normalizer is not None else preprocess_rois(image_bgr, roi_boxes, spec)
    )
    t1 = time.perf_counter()
    logits = as_numpy(classifier.infer(feeds, check=check)[spec.output_names[0]]).astype(np.float32, copy=False)
    probs = softmax(logits)
    t2 = time.perf_counter()
    return probs, {"roi_crop": (t1 - t0) * 1e3, "classifier": (t2 - t1) * 1e3}


class SecondStage:
    """Labels for one frame's shown boxes; ``track_ids`` None means no tracking (every-box mode)."""

    def __init__(
        self,
        classifier: Runner,
        top_k: int,
        policy: ReclassifyPolicy,
        tracking: bool,
        device_preprocess: bool | None = None,
    ) -> None:
        self.classifier = classifier
        # As the detector's (CascadeConfig.device_preprocess), but a numpy-only classifier just stays on the host.
        wanted = device_preprocess if device_preprocess is not None else on_cuda(classifier)
        on_device = wanted and classifier.capabilities.device_tensors
        self.normalizer = DeviceNormalizer(classifier.spec, classifier.device) if on_device else None
        self.top_k = top_k
        self.tracking = tracking
        self.labels = TrackLabels(policy, classifier.spec.categories)
        self.worker: ClassifierWorker | None = None
        self.stats = ClassifierStats(SecondStageMode.TRACKED if tracking else SecondStageMode.EVERY_BOX)
        self._checked = False  # the classifier's feeds are checked on its first call only

    def _classify(self, image_bgr: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        """``classify_probs``, checking the feeds of the first call (later calls come from the same code)."""
        result = classify_probs(self.classifier, image_bgr, boxes, self.normalizer, check=not self._checked)
        self._checked = True
        return result

    def start_async(self, queue_size: int) -> None:
        """Move classification to its own worker (tracked mode only: untracked boxes have no later frame)."""
        if self.tracking and self.worker is None:
            self.worker = ClassifierWorker(self._classify, queue_size)
            self.stats.mode = SecondStageMode.ASYNC

    def close(self) -> None:
        """Stop the worker; requests still queued are counted as unfinished."""
        if self.worker is not None:
            left = self.worker.close()
            self._fold(self.worker.take(raise_error=False))  # finished while stopping
            self.stats.unfinished += len(left) + self.worker.pending
            self.worker = None

    def summary(self) -> ClassifierSummary:
        return self.stats.summary()

    def forget(self, closed: set[int]) -> None:
        self.labels.close(closed)
        self.stats.tracks_closed += len(closed)

    def __call__(
        self,
        frame: int,
        image_bgr: np.ndarray,
        rows: np.ndarray,
        track_ids: np.ndarray | None,
        timings: dict[str, float],
    ) -> list[RoiLabel | None]:
        """Labels of ``rows`` (best first, original pixels) on ``frame``; classifier timings go to ``timings``."""
        out: list[RoiLabel | None] = [None] * len(rows)
        if track_ids is None:
            if len(rows):
                probs, t = self._classify(image_bgr, rows[: self.top_k, :4])
                timings.update(t)
                self._count(len(probs), t["classifier"])
                cats = self.classifier.spec.categories
                out[: len(probs)] = [label_from(p, cats, frame) for p in probs]
        else:
            self._collect()
            boxes = rows[:, :4]
            due = self.labels.due(frame, track_ids.tolist(), boxes.tolist())[: self.top_k]
            if due:
                tids = tuple(int(t) for t in track_ids[due])
                self.labels.requested(frame, tids, boxes[due].tolist())
                request = ClassifyRequest(frame, image_bgr, boxes[due].copy(), tids, time.perf_counter())
                if self.worker is not None:
                    self.stats.requests += 1
                    for lost in self.worker.submit(request):
                        self.labels.dropped(lost.track_ids)
                        self.stats.dropped_requests += 1
                        self.stats.dropped_rois += len(lost.track_ids)
                else:
                    probs, t = self._classify(image_bgr, request.boxes)
                    timings.update(t)
                    self._count(len(probs), t["classifier"])
                    self.labels.answer(frame, tids, probs)
            out = [self.labels.label(int(t)) if t >= 0 else None for t in track_ids]
        for label in out:
            if label is not None and label.frame is not None:
                self.stats.label_ages[frame - label.frame] += 1
        return out

    def _count(self, rois: int, ms: float) -> None:
        self.stats.requests += 1
        self.stats.answered += 1
        self.stats.rois += rois
        self.stats.latency_ms.append(ms)

    def _collect(self) -> None:
        """Fold in the worker's finished answers."""
        if self.worker is not None:
            self._fold(self.worker.take())

    def _fold(self, answers: list[ClassifyAnswer]) -> None:
        for answer in answers:
            request = answer.request
            self.labels.answer(request.frame, request.track_ids, answer.probs)
            self.stats.answered += 1
            self.stats.rois += len(request.track_ids)
            self.stats.latency_ms.append(answer.latency_ms)
