"""COCO metrics equal hand-computed values on constructed cases; predictions are in original pixels."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO

from objectix_edge.data.coco import load_coco
from objectix_edge.errors import InputError
from objectix_edge.eval.detection import coco_map, predict_coco
from objectix_edge.runtime.open import open_runner


def _gt(boxes: dict[int, list[tuple[int, list[float]]]], crowd: list[tuple[int, int, list[float]]] = ()) -> COCO:
    """Ground truth: {image_id: [(category_id, [x, y, w, h])]} on 100x100 images, 2 categories."""
    images = [{"id": i, "file_name": f"{i}.jpg", "height": 100, "width": 100} for i in sorted(boxes)]
    anns = []
    for image_id, items in boxes.items():
        for cat, b in items:
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": cat,
                    "bbox": b,
                    "area": b[2] * b[3],
                    "iscrowd": 0,
                }
            )
    for image_id, cat, b in crowd:
        anns.append(
            {
                "id": len(anns) + 1,
                "image_id": image_id,
                "category_id": cat,
                "bbox": b,
                "area": b[2] * b[3],
                "iscrowd": 1,
            }
        )
    coco = COCO()
    coco.dataset = {
        "images": images,
        "annotations": anns,
        "categories": [{"id": 1, "name": "a"}, {"id": 7, "name": "b"}],
    }
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        coco.createIndex()
    return coco


GT = {1: [(1, [10, 10, 40, 40]), (7, [60, 60, 30, 30])], 2: [(1, [20, 30, 50, 40])]}


def _perfect() -> list[dict]:
    return [{"image_id": i, "category_id": c, "bbox": b, "score": 0.9} for i, items in GT.items() for c, b in items]


def test_perfect_detections_score_one() -> None:
    m = coco_map(_gt(GT), _perfect())
    assert (m.map, m.ap50, m.ap75, m.ar100) == (1.0, 1.0, 1.0, 1.0)
    assert m.images == 2 and m.detections == 3


def test_no_detections_score_zero() -> None:
    m = coco_map(_gt(GT), [])
    assert (m.map, m.ap50, m.ap75, m.ar100, m.detections) == (0.0, 0.0, 0.0, 0.0, 0)


def test_one_missed_box_gives_the_hand_computed_ap() -> None:
    # Category 1 has two boxes; only one is found. Recall stops at 0.5 with precision 1, so of COCO's
    # 101 recall points 0.00..0.50 (51 points) have precision 1: AP = 51/101. Category 7 is perfect.
    results = [r for r in _perfect() if r["image_id"] != 2]
    m = coco_map(_gt(GT), results)
    expected_ap = (51 / 101 + 1.0) / 2
    assert (
        m.map == pytest.approx(expected_ap)
        and m.ap50 == pytest.approx(expected_ap)
        and m.ap75 == pytest.approx(expected_ap)
    )
    assert m.ar100 == pytest.approx((0.5 + 1.0) / 2)


def test_one_shifted_box_fails_only_the_strict_thresholds() -> None:
    # Category 7's box shifted by 5 px: IoU = 25*30 / (2*900 - 25*30) = 750/1050 = 0.714..., a match at
    # IoU 0.50..0.70 (5 of 10 thresholds) and a miss above. Category 1 is perfect.
    results = [dict(r, bbox=[65, 60, 30, 30]) if r["category_id"] == 7 else r for r in _perfect()]
    m = coco_map(_gt(GT), results)
    assert m.ap50 == pytest.approx(1.0)
    assert m.ap75 == pytest.approx(0.5)  # category 7 misses at 0.75
    assert m.map == pytest.approx((1.0 + 0.5) / 2)
    assert m.ar100 == pytest.approx((1.0 + 0.5) / 2)


def test_crowd_regions_are_ignored_and_category_subset_restricts() -> None:
    gt = _gt(GT, crowd=[(2, 7, [0, 0, 100, 100])])
    # A detection inside the crowd region is neither a true nor a false positive.
    results = _perfect() + [{"image_id": 2, "category_id": 7, "bbox": [10, 10, 20, 20], "score": 0.95}]
    assert coco_map(gt, results).map == pytest.approx(1.0)
    only_a = coco_map(_gt(GT), [r for r in _perfect() if r["category_id"] == 1], cat_ids=[1])
    assert only_a.map == pytest.approx(1.0)


def test_detections_for_unknown_images_are_refused() -> None:
    with pytest.raises(InputError, match="absent from the annotations"):
        coco_map(_gt(GT), [{"image_id": 99, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}])


def test_predict_coco_boxes_are_in_original_pixels(
    trained_detector_ckpt: Path, synth_coco_val: tuple[Path, Path], tmp_path: Path
) -> None:
    # The same images at twice the size must give boxes twice as large: the letterbox is undone.
    images_dir, ann = synth_coco_val
    import cv2

    big_dir = tmp_path / "big"
    big_dir.mkdir()
    data = json.loads(ann.read_text())
    data["images"] = data["images"][:4]
    keep = {img["id"] for img in data["images"]}
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in keep]
    small_ann = tmp_path / "small.json"
    small_ann.write_text(json.dumps(data))
    for img in data["images"]:
        pixels = cv2.imread(str(images_dir / img["file_name"]))
        cv2.imwrite(
            str(big_dir / img["file_name"]),
            cv2.resize(pixels, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR),
            [cv2.IMWRITE_JPEG_QUALITY, 100],
        )
    big = dict(data, images=[dict(img, height=480, width=640) for img in data["images"]])
    big_ann = tmp_path / "big.json"
    big_ann.write_text(json.dumps(big))
    with open_runner(trained_detector_ckpt) as runner:
        small = predict_coco(runner, images_dir, small_ann, batch=3, conf=0.3)
        large = predict_coco(runner, big_dir, big_ann, batch=3, conf=0.3)
    assert small and {r["category_id"] for r in small} <= {1, 2, 3}
    for r in small:
        x, y, w, h = r["bbox"]
        assert x >= 0 and y >= 0 and x + w <= 320.01 and y + h <= 240.01
    best_small = max(small, key=lambda r: r["score"])
    match = [
        r for r in large if r["image_id"] == best_small["image_id"] and r["category_id"] == best_small["category_id"]
    ]
    closest = min(match, key=lambda r: np.abs(np.asarray(r["bbox"]) - 2 * np.asarray(best_small["bbox"])).sum())
    np.testing.assert_allclose(closest["bbox"], 2 * np.asarray(best_small["bbox"]), atol=6.0)
    m = coco_map(load_coco(images_dir, small_ann).coco, small)
    assert m.ap50 > 0.3
