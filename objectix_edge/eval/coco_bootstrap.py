"""COCO mAP re-accumulated from pycocotools' per-image evaluation with image weights (for the bootstrap).

``COCOeval.evaluate()`` matches detections to ground truth image by image; ``accumulate()`` then pools
the matches of all images per category. A bootstrap replicate is the same pool with each image counted
as often as it was drawn, so the matches are computed once and only the pooling is repeated, for all
replicates at once: the weighted cumulative true/false positives, the precision envelope, and the
101-point interpolated precision at IoU 0.50:0.95, area "all", 100 detections, exactly as
``accumulate()`` and ``summarize()`` compute mAP (weights of 1 give pycocotools' number).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from objectix_edge.quiet import module_prints_silenced

_CHUNK = 64  # replicates pooled at once: bounds memory at CHUNK × detections of one category


@dataclass(frozen=True)
class _CategoryPool:
    """One category's detections in pycocotools' pooling order, and its non-ignored ground truths per image."""

    image_index: np.ndarray  # (D,) index into image_ids of each detection, sorted by descending score
    true_pos: np.ndarray  # (T, D) bool: matched and not ignored, per IoU threshold
    false_pos: np.ndarray  # (T, D) bool: unmatched and not ignored
    gt_per_image: np.ndarray  # (N,) non-ignored ground truths of this category in each image


@dataclass(frozen=True)
class PerImageEval:
    """The per-image matches of one detection set against one ground truth, ready to re-weight."""

    image_ids: tuple[int, ...]
    pools: tuple[_CategoryPool, ...]
    rec_thresholds: np.ndarray
    gt_total: np.ndarray  # (N,) non-ignored ground truths per image, all categories
    gt_matched_50: np.ndarray  # (N,) of those, matched by a detection of their class at IoU 0.5

    def map(self, weights: np.ndarray | None = None) -> np.ndarray:
        """mAP@[.5:.95] (fraction) for each row of ``weights`` (replicates × images); None: all ones."""
        w = np.ones((1, len(self.image_ids))) if weights is None else np.atleast_2d(np.asarray(weights, float))
        total = np.zeros(len(w))
        counted = np.zeros(len(w))
        for pool in self.pools:
            for start in range(0, len(w), _CHUNK):
                block = w[start : start + _CHUNK]
                ap, valid = _pooled_ap(pool, block, self.rec_thresholds)
                total[start : start + _CHUNK] += np.where(valid, ap, 0.0)
                counted[start : start + _CHUNK] += valid
        return np.where(counted > 0, total / np.maximum(counted, 1), 0.0)


def evaluate_images(coco_gt: COCO, results: Sequence[dict[str, Any]], cat_ids: Sequence[int] | None) -> COCOeval:
    """COCOeval with ``evaluate()`` run (per-image matches), over every image of ``coco_gt``."""
    with module_prints_silenced("pycocotools.coco", "pycocotools.cocoeval"):  # they print progress
        coco_dt = coco_gt.loadRes(copy.deepcopy(list(results))) if results else _empty_results(coco_gt)
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.params.imgIds = sorted(coco_gt.getImgIds())
        if cat_ids is not None:
            ev.params.catIds = sorted(set(cat_ids) & set(coco_gt.getCatIds()))
        ev.evaluate()
    return ev


def _empty_results(coco_gt: COCO) -> COCO:
    coco = COCO()
    coco.dataset = {
        "images": list(coco_gt.dataset["images"]),
        "annotations": [],
        "categories": coco_gt.dataset["categories"],
    }
    coco.createIndex()
    return coco


def per_image_eval(coco_gt: COCO, results: Sequence[dict[str, Any]], cat_ids: Sequence[int] | None) -> PerImageEval:
    """Match ``results`` to ``coco_gt`` once; the returned pools give mAP under any image weights."""
    ev = evaluate_images(coco_gt, results, cat_ids)
    p = ev.params
    image_ids = list(p.imgIds)
    max_det = p.maxDets[-1]
    area_all = 0  # COCOeval's first area range is "all"
    n_img, n_area = len(image_ids), len(p.areaRng)
    pools = []
    gt_total, gt_matched = np.zeros(n_img), np.zeros(n_img)
    for k, _ in enumerate(p.catIds):
        base = k * n_area * n_img + area_all * n_img
        evals = [(i, ev.evalImgs[base + i]) for i in range(n_img) if ev.evalImgs[base + i] is not None]
        gt_per_image = np.zeros(n_img)
        for i, e in evals:
            counted = np.asarray(e["gtIgnore"]) == 0
            gt_per_image[i] = np.count_nonzero(counted)
            gt_matched[i] += np.count_nonzero((np.asarray(e["gtMatches"]).reshape(len(p.iouThrs), -1)[0] > 0) & counted)
        gt_total += gt_per_image
        if gt_per_image.sum() == 0:
            continue  # pycocotools leaves a category without ground truth out of the mean (-1)
        scores = np.concatenate([np.asarray(e["dtScores"][:max_det]) for _, e in evals]) if evals else np.zeros(0)
        owner = np.concatenate([np.full(min(len(e["dtScores"]), max_det), i) for i, e in evals]) if evals else scores
        order = np.argsort(-scores, kind="mergesort")  # as accumulate(): stable, so ties keep image order
        t = len(p.iouThrs)
        matches = [np.asarray(e["dtMatches"])[:, :max_det].reshape(t, -1) for _, e in evals]
        ignores = [np.asarray(e["dtIgnore"])[:, :max_det].reshape(t, -1) for _, e in evals]
        dtm = np.concatenate(matches, axis=1)[:, order] if evals else np.zeros((t, 0))
        dtig = np.concatenate(ignores, axis=1)[:, order].astype(bool) if evals else np.zeros((t, 0), bool)
        matched = dtm.astype(bool)
        pools.append(_CategoryPool(owner[order].astype(int), matched & ~dtig, ~matched & ~dtig, gt_per_image))
    return PerImageEval(
        tuple(int(i) for i in image_ids), tuple(pools), np.asarray(p.recThrs, dtype=np.float64), gt_total, gt_matched
    )


def _pooled_ap(pool: _CategoryPool, weights: np.ndarray, rec_thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average precision over IoU thresholds and recall points of one category, per weight row."""
    rows = len(weights)
    npig = weights @ pool.gt_per_image  # (R,)
    valid = npig > 0
    w = weights[:, pool.image_index]  # (R, D)
    q_sum = np.zeros(rows)
    offsets = 2.0 * np.arange(rows)[:, None]  # rows of recall in [0, 1] made one sorted array
    for t in range(pool.true_pos.shape[0]):
        hits = np.flatnonzero(pool.true_pos[t])
        if len(hits) == 0:
            continue  # no true positive in any replicate: precision 0 at every recall point
        # Detections after the last true positive reach no new recall point in any replicate: cut them.
        n_det = int(hits[-1]) + 1
        tp = np.cumsum(w[:, :n_det] * pool.true_pos[t, :n_det], axis=1)
        fp = np.cumsum(w[:, :n_det] * pool.false_pos[t, :n_det], axis=1)
        recall = tp / np.maximum(npig, 1e-300)[:, None]
        precision = tp / (fp + tp + np.spacing(1))
        envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
        found = np.searchsorted((recall + offsets).ravel(), (rec_thresholds[None, :] + offsets).ravel(), "left")
        index = found.reshape(rows, -1) - (np.arange(rows) * n_det)[:, None]
        reached = index < n_det
        picked = np.take_along_axis(envelope, np.minimum(index, n_det - 1), axis=1)
        q_sum += np.where(reached, picked, 0.0).sum(axis=1)
    return q_sum / (pool.true_pos.shape[0] * len(rec_thresholds)), valid
