"""The committed tiny models are accurate on synthetic data they never saw, and the recipe that made them
still trains a usable detector on the machine that runs the tests (slow: retrains)."""

from __future__ import annotations

from pathlib import Path

import pytest

from objectix_edge.data.coco import load_coco
from objectix_edge.eval.classification import evaluate_classifier
from objectix_edge.eval.detection import evaluate_detector
from objectix_edge.runtime.open import open_runner
from objectix_edge.train.trainer import train
from tests.conftest import TINY_DETECTOR
from tests.fixtures.trained import DETECTOR_RECIPE, tiny_config


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


@pytest.mark.slow
def test_detector_recipe_still_trains_here(
    synth_coco: tuple[Path, Path], synth_coco_val: tuple[Path, Path], tmp_path: Path
) -> None:
    # Retrained on this CPU its weights differ from the committed asset's in the last bits, so only a
    # loose floor is asserted (the asset measured AP50 well above it; the verdict must not depend on the CPU).
    last = train(tiny_config("mobilenet-det", TINY_DETECTOR, DETECTOR_RECIPE, synth_coco, tmp_path)).last
    with open_runner(last) as runner:
        metrics, _ = evaluate_detector(runner, load_coco(*synth_coco_val))
    print(f"retrained tiny detector on unseen synthetic images: {metrics}")
    assert metrics.ap50 >= 0.3
