"""The cascade checks each runner's feeds on its first call only; later frames skip the check."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from objectix_edge.cascade.frame_cascade import Cascade, CascadeConfig
from objectix_edge.cascade.tracking import TrackConfig
from tests.conftest import REPO_ROOT
from tests.runtime.recording import RecordingTorchRunner

PHOTOS = sorted((REPO_ROOT / "samples" / "coco" / "images").iterdir())


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, path
    return image


def test_detector_and_classifier_are_checked_on_their_first_call_only(tiny_det_ckpt: Path, tiny_cls_ckpt: Path) -> None:
    detector, classifier = RecordingTorchRunner.load(tiny_det_ckpt), RecordingTorchRunner.load(tiny_cls_ckpt)
    cascade = Cascade(detector, classifier, CascadeConfig(conf=0.01))
    frames = [_read(p) for p in PHOTOS] * 2
    shown = sum(len(cascade(frame).detections) > 0 for frame in frames)
    assert detector.checks == [True] + [False] * (len(frames) - 1)
    assert shown >= 2 and classifier.checks == [True] + [False] * (shown - 1)
    assert detector.input_calls == 1 and classifier.input_calls == 1


def test_tracked_second_stage_checks_its_first_call_only(tiny_det_ckpt: Path, tiny_cls_ckpt: Path) -> None:
    detector, classifier = RecordingTorchRunner.load(tiny_det_ckpt), RecordingTorchRunner.load(tiny_cls_ckpt)
    cascade = Cascade(detector, classifier, CascadeConfig(conf=0.01, track=TrackConfig()))
    cascade.start(live=False)  # files: the classifier runs in the inference thread
    for p in PHOTOS:
        cascade(_read(p))
    cascade.close()
    assert classifier.checks and classifier.checks == [True] + [False] * (len(classifier.checks) - 1)
