"""Calibration batches from your own footage, no labels: the frames a FootagePlan chose, preprocessed
exactly as ``run`` preprocesses them. Detectors (and whole-image classifiers) take the whole frame; an
ROI classifier takes the boxes a detector finds in it (``--detector``), since there are no annotations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from objectix_edge.calib.reader import batch_samples, frame_feeds
from objectix_edge.data.footage import FootagePlan, read_frames
from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.eval.inference import detect_frames, frame_batches, run_batch, top_boxes
from objectix_edge.modelio.postprocess import AGREEMENT_CONF, to_original
from objectix_edge.modelio.roi_feeds import MIN_ROI_SIDE
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.open import open_runner
from objectix_edge.spec import ModelSpec
from objectix_edge.stream.health import profile


class FootageCalibReader:
    """Iterable of ``{input_name: float32[B, ...]}`` batches over the plan's calibration frames, in order.

    ``image_ids`` are the frame indices (what the cache records); ``boxes_found`` counts the detector's
    ROIs per frame for an ROI classifier (so a detector that finds nothing is said, not hidden).
    """

    def __init__(
        self,
        spec: ModelSpec,
        plan: FootagePlan,
        batch_size: int = 8,
        rois_per_image: int = 4,
        detector: Runner | None = None,
        conf: float = AGREEMENT_CONF,
    ) -> None:
        if spec.task == Task.ROI_CLASSIFY and detector is None:
            raise InputError(
                f"{plan.source}: an ROI classifier calibrates on boxes and footage has no labels; "
                "pass --detector DETECTOR (its boxes on these frames) or --ann with a COCO folder"
            )
        self.spec, self.plan, self.batch_size = spec, plan, batch_size
        self.rois_per_image, self.detector, self.conf = rois_per_image, detector, conf
        self.boxes_found: dict[int, int] = {}

    @property
    def seed(self) -> int:
        return 0  # frames are sampled evenly: nothing is random

    @property
    def image_ids(self) -> list[int | str]:
        return list(self.plan.calib_frames)

    def __len__(self) -> int:
        return len(self.plan.calib_frames)

    def _per_frame(self) -> Iterator[list[dict[str, np.ndarray]]]:
        for index, bgr in read_frames(Path(self.plan.source), self.plan.calib_frames):
            boxes = None
            if self.detector is not None and self.spec.task != Task.DETECT:
                _, rows, _ = detect_frames(self.detector, [bgr], self.conf)[0]
                boxes = top_boxes(rows, self.rois_per_image, MIN_ROI_SIDE).tolist()
                self.boxes_found[index] = len(boxes)
            yield frame_feeds(bgr, self.spec, boxes, self.rois_per_image)
        if self.detector is not None and not any(self.boxes_found.values()):
            raise InputError(
                f"{self.plan.source}: the detector {self.detector.path} found no box with score ≥ {self.conf:g} in "
                f"{len(self.boxes_found)} calibration frames; use footage where it finds objects, or another detector"
            )

    def iter_batches(self, on_image: Callable[[], None] | None = None) -> Iterator[dict[str, np.ndarray]]:
        return batch_samples(self._per_frame(), self.batch_size, on_image)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        return self.iter_batches()


def calibration_profile(model: Path, plan: FootagePlan, batch: int = 8) -> dict[str, object]:
    """What the FP32 detector finds on the calibration frames (detections per frame, their scores): the
    baseline ``run`` compares a camera's detections with to notice drift (stream/health.py)."""

    scores: list[np.ndarray] = []
    with open_runner(model) as runner:
        name = runner.spec.input_names[0]
        for b in frame_batches(read_frames(Path(plan.source), plan.calib_frames), runner.spec, batch):
            out = run_batch(runner, {name: b.images})
            scores += [to_original(rows, lb, AGREEMENT_CONF)[:, 4] for rows, lb in zip(out, b.letterboxes, strict=True)]
    span_s = (plan.calib_frames[-1] - plan.calib_frames[0]) / plan.fps if plan.fps > 0 else 0.0
    return profile(scores, span_s).to_dict()
