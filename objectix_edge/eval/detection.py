"""Detector evaluation: run any Runner over a COCO folder, score with pycocotools' COCOeval.

Results are in the official COCO results format (image_id, category_id, bbox [x, y, w, h] in original
image pixels, score), so any COCO tool can re-score a saved file.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from objectix_edge.data.coco import CocoSource, load_coco
from objectix_edge.errors import InputError
from objectix_edge.eval.inference import DEFAULT_CONF, detect_coco
from objectix_edge.quiet import module_prints_silenced
from objectix_edge.runtime.base import Runner

__all__ = ["DEFAULT_CONF", "DetectionMetrics", "coco_map", "evaluate_detector", "predict_coco", "predict_source"]


@dataclass(frozen=True)
class DetectionMetrics:
    """COCO box metrics (fractions in [0, 1]); ``map`` is AP averaged over IoU 0.50:0.95."""

    map: float
    ap50: float
    ap75: float
    ar100: float
    images: int
    detections: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def predict_source(
    runner: Runner, source: CocoSource, batch: int = 8, conf: float = DEFAULT_CONF
) -> list[dict[str, Any]]:
    """Detections for every image of ``source`` in the COCO results format (eval/inference.py)."""
    return detect_coco(runner, source, source.image_ids, batch, conf)


def predict_coco(
    runner: Runner, images_dir: str | Path, ann_file: str | Path, batch: int = 8, conf: float = DEFAULT_CONF
) -> list[dict[str, Any]]:
    """Run ``runner`` (any backend) over a COCO folder; boxes in original pixels, official category ids."""
    return predict_source(runner, load_coco(images_dir, ann_file), batch, conf)


def coco_map(
    coco_gt: COCO, results: Sequence[dict[str, Any]], cat_ids: Sequence[int] | None = None
) -> DetectionMetrics:
    """COCOeval box metrics; ``cat_ids`` restricts scoring (e.g. to a model's category subset)."""
    image_ids = sorted(coco_gt.getImgIds())
    if not results:
        return DetectionMetrics(0.0, 0.0, 0.0, 0.0, len(image_ids), 0)
    unknown = {r["image_id"] for r in results} - set(image_ids)
    if unknown:
        raise InputError(
            f"detections refer to image ids {sorted(unknown)[:5]} absent from the annotations; use the matching JSON"
        )
    with module_prints_silenced("pycocotools.coco", "pycocotools.cocoeval"):  # it prints its tables
        coco_dt = coco_gt.loadRes(copy.deepcopy(list(results)))
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.params.imgIds = image_ids
        if cat_ids is not None:
            ev.params.catIds = sorted(set(cat_ids) & set(coco_gt.getCatIds()))
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    # COCOeval reports -1 where no ground truth exists; that means nothing could be found: 0.
    s = [max(0.0, float(v)) for v in ev.stats]
    return DetectionMetrics(s[0], s[1], s[2], s[8], len(image_ids), len(results))


def evaluate_detector(
    runner: Runner, source: CocoSource, batch: int = 8, conf: float = DEFAULT_CONF
) -> tuple[DetectionMetrics, list[dict[str, Any]]]:
    """Predict and score on ``source``, restricted to the categories the model knows."""
    results = predict_source(runner, source, batch, conf)
    return coco_map(source.coco, results, runner.spec.category_ids), results
