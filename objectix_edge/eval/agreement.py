"""COCO ground-truth objects for parity: a subset of images, or another detector's boxes as the truth.

Agreement mAP treats the reference detector's boxes as ground truth and scores the artifact's boxes
against them with the same COCOeval (eval/detection.coco_map): 100 when the artifact finds the same
boxes with the same ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pycocotools.coco import COCO

from objectix_edge.quiet import module_prints_silenced


def _index(dataset: dict[str, Any]) -> COCO:
    coco = COCO()
    coco.dataset = dataset
    with module_prints_silenced("pycocotools.coco"):  # it prints progress lines
        coco.createIndex()
    return coco


def coco_subset(coco: COCO, image_ids: Sequence[int]) -> COCO:
    """The images ``image_ids`` and their annotations only, so mAP is not charged for images never run."""
    ids = set(image_ids)
    data = coco.dataset
    return _index(
        {
            "images": [img for img in data["images"] if img["id"] in ids],
            "annotations": [a for a in data["annotations"] if a["image_id"] in ids],
            "categories": list(data["categories"]),
        }
    )


def coco_from_detections(
    detections: Sequence[dict[str, Any]], images: Sequence[dict[str, Any]], categories: Sequence[dict[str, Any]]
) -> COCO:
    """A ground-truth COCO whose annotations are ``detections`` (COCO results format, e.g. the reference's)."""
    anns = [
        {
            "id": k,
            "image_id": d["image_id"],
            "category_id": d["category_id"],
            "bbox": list(d["bbox"]),
            "area": d["bbox"][2] * d["bbox"][3],
            "iscrowd": 0,
        }
        for k, d in enumerate(detections, start=1)
    ]
    return _index({"images": list(images), "annotations": anns, "categories": list(categories)})
