"""Calibration images: seeded choice, validation ids kept out, exactly the inference preprocessing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from objectix_edge.calib.reader import CalibDataConfig, CocoCalibReader, OrtCalibrationReader
from objectix_edge.errors import InputError
from objectix_edge.modelio.preprocess import preprocess_detector
from objectix_edge.modelio.roi_feeds import crop_roi
from objectix_edge.models import create_model
from tests.conftest import TINY_CLASSIFIER, TINY_DETECTOR


@pytest.fixture(scope="module")
def det_spec():
    return create_model("mobilenet-det", **TINY_DETECTOR).spec


def _config(coco: Path, **kw: object) -> CalibDataConfig:
    return CalibDataConfig(coco / "images", coco / "annotations" / "instances_train2017.json", **kw)  # type: ignore[arg-type]


def test_choice_is_seeded_and_skips_excluded_ids(coco_mini: Path, det_spec) -> None:
    a = CocoCalibReader(det_spec, _config(coco_mini, num_images=20, seed=3))
    b = CocoCalibReader(det_spec, _config(coco_mini, num_images=20, seed=3))
    c = CocoCalibReader(det_spec, _config(coco_mini, num_images=20, seed=4))
    assert a.image_ids == b.image_ids and len(a.image_ids) == 20 == len(set(a.image_ids))
    assert a.image_ids != c.image_ids
    held_out = frozenset(a.image_ids[:10])
    d = CocoCalibReader(det_spec, _config(coco_mini, num_images=20, seed=3, exclude_ids=held_out))
    assert not set(d.image_ids) & held_out and len(d.image_ids) == 20


def test_detector_batches_equal_inference_preprocessing(coco_mini: Path, det_spec) -> None:
    import cv2

    reader = CocoCalibReader(det_spec, _config(coco_mini, num_images=5, batch_size=2))
    batches = list(reader)
    assert [b["images"].shape[0] for b in batches] == [2, 2, 1]
    first = reader.images[0]
    expected, _ = preprocess_detector(cv2.imread(str(first.path)), det_spec)
    np.testing.assert_array_equal(batches[0]["images"][0], expected)
    assert batches[0]["images"].dtype == np.float32
    # Iterating again gives the same batches (ORT's calibrators may be fed twice).
    np.testing.assert_array_equal(list(reader)[1]["images"], batches[1]["images"])


def test_classifier_batches_are_roi_crops_with_masks(coco_mini: Path) -> None:
    import cv2

    spec = create_model("resnet50-roi", **TINY_CLASSIFIER).spec
    reader = CocoCalibReader(spec, _config(coco_mini, num_images=3, batch_size=4, rois_per_image=2))
    batch = next(iter(reader))
    assert (
        set(batch) == {"images", "roi_mask"}
        and batch["images"].shape[1:] == (3, 64, 64)
        and batch["roi_mask"].shape[1:] == (1, 64, 64)
    )
    image = reader.images[0]
    crop, mask = crop_roi(cv2.imread(str(image.path)), image.boxes[0], spec)
    np.testing.assert_array_equal(batch["images"][0], crop)
    np.testing.assert_array_equal(batch["roi_mask"][0], mask)


def test_classifier_without_annotations_is_refused(coco_mini: Path) -> None:
    spec = create_model("resnet50-roi", **TINY_CLASSIFIER).spec
    with pytest.raises(InputError, match="--ann"):
        CocoCalibReader(spec, CalibDataConfig(coco_mini / "images", None))


def test_ort_adapter_ends_with_none() -> None:
    batches = [{"x": np.zeros(1, np.float32)}]
    reader = OrtCalibrationReader(iter(batches))
    assert reader.get_next() is batches[0] and reader.get_next() is None
