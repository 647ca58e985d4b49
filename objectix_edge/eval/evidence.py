"""Evidence for a verdict, from two models' outputs on the same images: the drop, agreement, intervals.

Detector: mAP@[.5:.95] of each against ground truth, the drop with a paired bootstrap over images
(per-image matches pooled with weights, eval/coco_bootstrap.py); agreement mAP of the artifact scored
against the original's confident detections as ground truth, and the share of those it matches at IoU
0.5, bootstrapped alike. Classifier: top-1 of each over every ROI, the drop bootstrapped over images
(ROIs of an image move together), its upper bound tightened by the Clopper–Pearson bound on the
disagreement rate, and top-1 agreement with its Clopper–Pearson interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools.coco import COCO

from objectix_edge.eval.agreement import coco_from_detections
from objectix_edge.eval.budgets import MIN_CONFIDENT_DETECTIONS, MIN_REFERENCE_MAP, MIN_REFERENCE_TOP1
from objectix_edge.eval.coco_bootstrap import per_image_eval
from objectix_edge.eval.uncertainty import (
    REPLICATES,
    SEED,
    Interval,
    bootstrap_weights,
    clopper_pearson,
    percentile_interval,
    share_interval,
)
from objectix_edge.eval.verdict import Evidence, weak_reference
from objectix_edge.modelio.postprocess import AGREEMENT_CONF

MIN_FLIPS_FOR_BOOTSTRAP = 5  # changed ROIs below which the drop's upper bound is Clopper–Pearson's alone


@dataclass(frozen=True)
class BootstrapConfig:
    replicates: int = REPLICATES
    seed: int = SEED


@dataclass(frozen=True)
class DetectorAgreement:
    """The artifact scored against the original's confident detections: agreement mAP, matched share."""

    agreement: Interval
    matched: Interval | None  # None when the original made no confident detection
    confident: int
    found: int
    too_weak: str | None


def detector_agreement(
    reference: list[dict[str, Any]],
    artifact: list[dict[str, Any]],
    images: list[dict[str, Any]],
    categories: list[dict[str, Any]],
    cat_ids: list[int],
    weights: np.ndarray,
    unit: str = "images",
) -> DetectorAgreement:
    """Needs no labels: the original's detections with score ≥ AGREEMENT_CONF are the truth. ``weights``
    (replicates × images, in id order) resample images or blocks of frames."""
    confident = [d for d in reference if d["score"] >= AGREEMENT_CONF]
    truth = coco_from_detections(confident, images, categories)
    agree_eval = per_image_eval(truth, artifact, cat_ids)
    agreement = percentile_interval(100.0 * agree_eval.map()[0], 100.0 * agree_eval.map(weights))
    found, total = agree_eval.gt_matched_50, agree_eval.gt_total
    matched = None  # no confident detection: nothing to match (and ``too_weak`` says so)
    if total.sum() > 0:
        matched = share_interval(found, total, weights)
    too_weak = None
    if len(confident) < MIN_CONFIDENT_DETECTIONS:
        too_weak = (
            f"the original made {len(confident)} detections with score ≥ {AGREEMENT_CONF:g} on "
            f"{len(agree_eval.image_ids)} {unit}; ≥ {MIN_CONFIDENT_DETECTIONS} are needed to judge agreement "
            f"(a stronger model or more {unit})"
        )
    return DetectorAgreement(agreement, matched, len(confident), int(found.sum()), too_weak)


def detector_evidence(
    gt: COCO,
    reference: list[dict[str, Any]],
    artifact: list[dict[str, Any]],
    cat_ids: list[int],
    boot: BootstrapConfig = BootstrapConfig(),
) -> tuple[Evidence, dict[str, Any]]:
    """Detections of both models in the COCO results format on the images of ``gt``."""
    ref_eval = per_image_eval(gt, reference, cat_ids)
    art_eval = per_image_eval(gt, artifact, cat_ids)
    n = len(ref_eval.image_ids)
    weights = bootstrap_weights(n, boot.replicates, boot.seed)
    ref_map, art_map = 100.0 * ref_eval.map()[0], 100.0 * art_eval.map()[0]
    drop = percentile_interval(ref_map - art_map, 100.0 * (ref_eval.map(weights) - art_eval.map(weights)))
    agree = detector_agreement(reference, artifact, gt.dataset["images"], gt.dataset["categories"], cat_ids, weights)
    evidence = Evidence(
        images=n,
        reference_metric=ref_map,
        drop=drop,
        agreement=agree.agreement,
        matched=agree.matched,
        too_weak=agree.too_weak,
        weak_metric=weak_reference(ref_map, MIN_REFERENCE_MAP, "mAP"),
    )
    figures = {
        "map_reference": ref_map,
        "map_artifact": art_map,
        "map_agreement": agree.agreement.value,
        "confident_detections": agree.confident,
        "matched_confident": agree.found,
    }
    return evidence, figures


@dataclass(frozen=True)
class RoiOutcome:
    """Per ROI: the image it belongs to, its label, and both models' top-1."""

    image_index: np.ndarray
    labels: np.ndarray
    reference_top1: np.ndarray
    artifact_top1: np.ndarray


def classifier_evidence(rois: RoiOutcome, boot: BootstrapConfig = BootstrapConfig()) -> Evidence:
    """Top-1 drop (bootstrap over images, Clopper–Pearson on the flips) and top-1 agreement."""
    images = int(rois.image_index.max()) + 1
    count = np.bincount(rois.image_index, minlength=images).astype(float)
    ref_ok = np.bincount(rois.image_index, rois.reference_top1 == rois.labels, minlength=images)
    art_ok = np.bincount(rois.image_index, rois.artifact_top1 == rois.labels, minlength=images)
    weights = bootstrap_weights(images, boot.replicates, boot.seed)
    n = int(count.sum())
    ref_top1 = 100.0 * ref_ok.sum() / n
    samples = 100.0 * (weights @ (ref_ok - art_ok)) / np.maximum(weights @ count, 1e-12)
    boot_drop = percentile_interval(ref_top1 - 100.0 * art_ok.sum() / n, samples)
    flips = int(np.count_nonzero(rois.reference_top1 != rois.artifact_top1))
    # A top-1 drop can never exceed the share of ROIs whose prediction changed: bound it from above too,
    # and take the tighter bound. With few changed ROIs the bootstrap has almost nothing to resample (with
    # none its interval is exactly 0), so below MIN_FLIPS_FOR_BOOTSTRAP the exact bound alone is used.
    flip_bound = max(100.0 * clopper_pearson(flips, n).high, boot_drop.value)
    high = min(boot_drop.high, flip_bound) if flips >= MIN_FLIPS_FOR_BOOTSTRAP else flip_bound
    drop = Interval(boot_drop.value, boot_drop.low, high)
    agree = clopper_pearson(n - flips, n)
    return Evidence(
        images=images,
        reference_metric=ref_top1,
        drop=drop,
        agreement=Interval(100.0 * agree.value, 100.0 * agree.low, 100.0 * agree.high),
        weak_metric=weak_reference(ref_top1, MIN_REFERENCE_TOP1, "top-1"),
        flips=flips,
        rois=n,
    )
