"""Shared pre/post-processing: letterbox geometry, mapping back, ROI crops and masks."""

from __future__ import annotations

import numpy as np
import pytest

from objectix_edge.modelio.postprocess import to_detections, to_original
from objectix_edge.modelio.preprocess import letterbox, preprocess_detector_batch
from objectix_edge.modelio.roi_feeds import context_box, crop_roi, preprocess_rois
from objectix_edge.models import create_model
from tests.conftest import TINY_CLASSIFIER, TINY_DETECTOR


def test_letterbox_keeps_aspect_and_centres_the_image() -> None:
    image = np.full((240, 320, 3), 200, np.uint8)
    boxed, lb = letterbox(image, (128, 128))
    assert boxed.shape == (128, 128, 3)
    assert lb.scale == pytest.approx(0.4) and (lb.pad_x, lb.pad_y) == (0.0, 16.0)
    assert np.all(boxed[:16] == 114) and np.all(boxed[16:112] == 200) and np.all(boxed[112:] == 114)


def test_detections_map_back_to_original_pixels() -> None:
    image = np.zeros((240, 320, 3), np.uint8)
    _, lb = letterbox(image, (128, 128))
    # An object at (100, 50)-(200, 150) in the original sits at scale 0.4, shifted down by 16 px.
    rows = np.array([[40, 36, 80, 76, 0.9, 1], [0, 0, 1, 1, 0.0, 0]], np.float32)
    back = to_original(rows, lb, conf=0.1)
    assert back.shape == (1, 6)
    np.testing.assert_allclose(back[0, :4], [100, 50, 200, 150], atol=1e-4)
    spec = create_model("mobilenet-det", **TINY_DETECTOR).spec
    (det,) = to_detections(back, spec)
    assert det.category_id == 2 and det.name == "bicycle"


def test_detector_batch_is_normalized_float32_chw() -> None:
    spec = create_model("mobilenet-det", **TINY_DETECTOR).spec
    frames = [np.full((100, 50, 3), v, np.uint8) for v in (0, 255)]
    batch, boxes = preprocess_detector_batch(frames, spec)
    assert batch.shape == (2, 3, 128, 128) and batch.dtype == np.float32
    expected_black = (0 - spec.mean[0]) / spec.std[0]
    assert batch[0, 0, 64, 64] == pytest.approx(expected_black, rel=1e-5)
    assert len(boxes) == 2 and boxes[0].scale == pytest.approx(1.28)


def test_roi_crop_has_context_and_a_mask_over_the_box() -> None:
    spec = create_model("resnet50-roi", **TINY_CLASSIFIER).spec
    image = np.zeros((200, 200, 3), np.uint8)
    image[80:120, 80:120] = 255
    assert context_box((80, 80, 120, 120), 0.25, 200, 200) == (70, 70, 130, 130)
    crop, mask = crop_roi(image, (80, 80, 120, 120), spec)
    assert crop.shape == (3, 64, 64) and mask.shape == (1, 64, 64)
    inside = mask[0] > 0
    assert 0.35 < inside.mean() < 0.55  # box is 40/60 of the crop side → (2/3)^2 ≈ 0.44
    # The white square fills the masked area.
    assert crop[0][inside].mean() > crop[0][~inside].mean()
    feeds = preprocess_rois(image, [(80, 80, 120, 120), (0, 0, 10, 10)], spec)
    assert feeds["images"].shape == (2, 3, 64, 64) and feeds["roi_mask"].shape == (2, 1, 64, 64)
    assert preprocess_rois(image, [], spec)["images"].shape == (0, 3, 64, 64)
