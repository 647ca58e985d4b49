"""Classification figures equal hand-computed values; the confusion PNG is a real image."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from objectix_edge.eval.classification import classification_metrics, predict_rois, save_confusion_png
from objectix_edge.runtime.open import open_runner


def test_perfect_predictions() -> None:
    m = classification_metrics([0, 1, 2, 2], [0, 1, 2, 2], 3, image_ids=[1, 1, 2, 3])
    assert m.per_class_accuracy == (1.0, 1.0, 1.0)
    assert (m.mean_class_accuracy, m.accuracy, m.images_all_rois_correct, m.precision, m.recall, m.f1) == (1.0,) * 6
    np.testing.assert_array_equal(m.confusion, np.diag([1, 1, 2]))


def test_empty_input_gives_zeros() -> None:
    m = classification_metrics([], [], 3)
    assert (m.mean_class_accuracy, m.accuracy, m.images_all_rois_correct, m.precision, m.recall, m.f1, m.samples) == (
        0.0,
    ) * 6 + (0,)
    assert m.confusion.sum() == 0


def test_one_off_case_by_hand() -> None:
    # 5 ROIs in 3 images; one class-1 ROI (image 2) predicted as class 0.
    y_true, y_pred, images = [0, 0, 1, 1, 2], [0, 0, 1, 0, 2], [1, 1, 2, 2, 3]
    m = classification_metrics(y_true, y_pred, 3, images)
    assert m.per_class_accuracy == (1.0, 0.5, 1.0)
    assert m.mean_class_accuracy == pytest.approx(2.5 / 3)
    assert m.accuracy == pytest.approx(4 / 5)
    assert m.images_all_rois_correct == pytest.approx(2 / 3)  # image 2 has a wrong ROI
    # precision: class 0 = 2/3, class 1 = 1/1, class 2 = 1/1
    assert m.precision == pytest.approx((2 / 3 + 1 + 1) / 3)
    assert m.recall == pytest.approx((1 + 0.5 + 1) / 3)
    f1 = [2 * (2 / 3) * 1 / (2 / 3 + 1), 2 * 1 * 0.5 / 1.5, 1.0]
    assert m.f1 == pytest.approx(sum(f1) / 3)
    np.testing.assert_array_equal(m.confusion, [[2, 0, 0], [1, 1, 0], [0, 0, 1]])


def test_never_predicted_class_counts_zero_precision() -> None:
    m = classification_metrics([0, 1], [0, 0], 2)
    assert m.precision == pytest.approx((0.5 + 0.0) / 2)
    assert m.recall == pytest.approx((1.0 + 0.0) / 2)


def test_confusion_png(tmp_path: Path) -> None:
    path = save_confusion_png(tmp_path / "cm.png", np.array([[5, 1], [0, 4]]), ["circle", "square"])
    img = cv2.imread(str(path))
    assert img is not None and img.shape[0] > 100 and img.shape[1] > 100
    assert [p.name for p in tmp_path.iterdir()] == ["cm.png"]


def test_predict_rois_with_the_trained_classifier(
    trained_classifier_ckpt: Path, synth_coco_val: tuple[Path, Path]
) -> None:
    with open_runner(trained_classifier_ckpt) as runner:
        preds = predict_rois(runner, *synth_coco_val, batch=7)
        whole = predict_rois(runner, *synth_coco_val, batch=256)
    assert len(preds.y_true) == len(preds.y_pred) == len(preds.image_ids) > 40
    np.testing.assert_array_equal(preds.y_pred, whole.y_pred)  # batching does not change answers
    m = classification_metrics(preds.y_true, preds.y_pred, 3, preds.image_ids)
    assert m.accuracy >= 0.9 and m.images_all_rois_correct >= 0.8
