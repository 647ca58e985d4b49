"""Interval and bound code against hand-computed cases, and the weighted COCO pooling against COCOeval."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO

from objectix_edge.eval.agreement import coco_subset
from objectix_edge.eval.coco_bootstrap import per_image_eval
from objectix_edge.eval.detection import coco_map
from objectix_edge.eval.uncertainty import (
    Interval,
    bootstrap_weights,
    clopper_pearson,
    clopper_pearson_trials_needed,
    percentile_interval,
    scaled_sample_size,
)


def test_clopper_pearson_hand_cases() -> None:
    none = clopper_pearson(0, 10)  # upper bound: 1 - (alpha/2)^(1/n)
    assert none.low == 0.0 and none.high == pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-9)
    every = clopper_pearson(10, 10)
    assert every.high == 1.0 and every.low == pytest.approx(0.025 ** (1 / 10), abs=1e-9)
    half = clopper_pearson(5, 10)  # tabulated exact interval for 5/10
    assert (half.low, half.high) == pytest.approx((0.18709, 0.81291), abs=1e-5)
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)


def test_trials_needed_for_zero_flips() -> None:
    # INT8 at 80 % top-1 may lose 1 % of it: 0.8 points. With no flips, n = log(0.025) / log(1 - 0.008).
    n = clopper_pearson_trials_needed(0.0, 0.008)
    assert n == math.ceil(math.log(0.025) / math.log(1 - 0.008)) == 460
    assert clopper_pearson(0, n).high <= 0.008 < clopper_pearson(0, n - 1).high
    assert clopper_pearson_trials_needed(0.01, 0.008) is None  # the observed rate is over the limit


def test_percentile_interval_and_scaling() -> None:
    samples = np.arange(1, 1001, dtype=float)  # percentiles 2.5 / 97.5 by linear interpolation
    iv = percentile_interval(500.0, samples)
    assert (iv.low, iv.high) == pytest.approx((25.975, 975.025))
    # Half-width 1 at 100 images; the limit is 0.5 away: a quarter of the variance → 4× the images.
    assert scaled_sample_size(100, Interval(0.0, -1.0, 1.0), 0.5) == 400
    assert scaled_sample_size(100, Interval(0.0, -0.2, 0.2), 0.5) == 100  # already decided
    assert scaled_sample_size(100, Interval(0.5, 0.0, 1.0), 0.5) is None  # on the limit
    w = bootstrap_weights(7, replicates=5, seed=1)
    assert w.shape == (5, 7) and (w.sum(axis=1) == 7).all()


def _detections(coco: COCO, rng: np.random.Generator) -> list[dict]:
    """Ground-truth boxes jittered (some missed), plus false positives; continuous scores (no ties)."""
    dets = []
    for ann in coco.dataset["annotations"]:
        if rng.random() < 0.2:
            continue
        x, y, w, h = ann["bbox"]
        jitter = rng.normal(0, 0.1, 4) * [w, h, w, h]
        box = [x + jitter[0], y + jitter[1], max(1.0, w + jitter[2]), max(1.0, h + jitter[3])]
        dets.append(
            {"image_id": ann["image_id"], "category_id": ann["category_id"], "bbox": box, "score": rng.random()}
        )
    cats = [c["id"] for c in coco.dataset["categories"]][:5]
    for img in coco.dataset["images"]:
        for _ in range(3):
            box = [rng.uniform(0, 200), rng.uniform(0, 200), rng.uniform(10, 100), rng.uniform(10, 100)]
            dets.append(
                {"image_id": img["id"], "category_id": int(rng.choice(cats)), "bbox": box, "score": rng.random()}
            )
    return dets


def _duplicated(coco: COCO, dets: list[dict], counts: np.ndarray, image_ids: list[int]) -> tuple[COCO, list[dict]]:
    """The bootstrap replicate as a real data set: image i copied counts[i] times under new ids."""
    images, anns, out = [], [], []
    by_id = {im["id"]: im for im in coco.dataset["images"]}
    for i, image_id in enumerate(image_ids):
        for copy in range(int(counts[i])):
            new = image_id * 100 + copy
            images.append(dict(by_id[image_id], id=new))
            anns += [dict(a, id=len(anns) + 1 + k, image_id=new) for k, a in enumerate(coco.imgToAnns[image_id])]
            out += [dict(d, image_id=new) for d in dets if d["image_id"] == image_id]
    dup = COCO()
    dup.dataset = {"images": images, "annotations": anns, "categories": coco.dataset["categories"]}
    dup.createIndex()
    return dup, out


def test_weighted_pooling_equals_cocoeval(coco_mini: Path) -> None:
    full = COCO(str(coco_mini / "annotations" / "instances_train2017.json"))
    image_ids = sorted(full.getImgIds())[:24]
    gt = coco_subset(full, image_ids)
    dets = _detections(gt, np.random.default_rng(0))
    pooled = per_image_eval(gt, dets, None)
    assert pooled.map()[0] == pytest.approx(coco_map(gt, dets).map, abs=1e-12)
    weights = bootstrap_weights(len(image_ids), replicates=3, seed=5)
    replicated = pooled.map(weights)
    for counts, value in zip(weights, replicated, strict=True):
        dup_gt, dup_dets = _duplicated(gt, dets, counts, list(pooled.image_ids))
        assert value == pytest.approx(coco_map(dup_gt, dup_dets).map, abs=1e-9)
    assert len(set(np.round(replicated, 9))) == 3  # the replicates differ: the weights are used
    json.dumps(pooled.image_ids)  # plain ints, for the report
