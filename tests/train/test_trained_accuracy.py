"""The session's tiny trained models are accurate on synthetic data they never saw."""

from __future__ import annotations

from pathlib import Path

from objectix_edge.data.coco import load_coco
from objectix_edge.eval.classification import evaluate_classifier
from objectix_edge.eval.detection import evaluate_detector
from objectix_edge.runtime.open import open_runner


def test_tiny_detector_reaches_map50_on_unseen_images(
    trained_detector_ckpt: Path, synth_coco_val: tuple[Path, Path]
) -> None:
    with open_runner(trained_detector_ckpt) as runner:
        metrics, results = evaluate_detector(runner, load_coco(*synth_coco_val))
    print(f"tiny detector on unseen synthetic images: {metrics}")
    assert metrics.ap50 >= 0.5
    assert {r["category_id"] for r in results} <= {1, 2, 3}


def test_tiny_classifier_reaches_top1_on_unseen_rois(
    trained_classifier_ckpt: Path, synth_coco_val: tuple[Path, Path]
) -> None:
    with open_runner(trained_classifier_ckpt) as runner:
        metrics = evaluate_classifier(runner, load_coco(*synth_coco_val))
    print(f"tiny classifier, unseen ROIs: top-1 {metrics.accuracy:.3f}, mean class {metrics.mean_class_accuracy:.3f}")
    assert metrics.samples >= 40
    assert metrics.accuracy >= 0.9
