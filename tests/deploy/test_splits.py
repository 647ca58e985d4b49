"""Calibration / held-out split of one COCO set: deterministic, disjoint, complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from objectix_edge.deploy.splits import split_coco
from objectix_edge.errors import InputError


def _ids(path: Path) -> set[int]:
    return {im["id"] for im in json.loads(path.read_text())["images"]}


def test_split_is_disjoint_complete_and_seeded(synth_coco_val: tuple[Path, Path], tmp_path: Path) -> None:
    _, ann = synth_coco_val
    full = json.loads(ann.read_text())
    annotated = {a["image_id"] for a in full["annotations"]}
    a = split_coco(ann, tmp_path / "a", calib_images=5, seed=3)
    b = split_coco(ann, tmp_path / "b", calib_images=5, seed=3)
    c = split_coco(ann, tmp_path / "c", calib_images=5, seed=4)
    calib, holdout = _ids(a.calib_ann), _ids(a.holdout_ann)
    assert (a.calib_images, a.holdout_images) == (5, len(annotated) - 5)
    assert not calib & holdout and calib | holdout == annotated
    assert a.calib_ann.read_bytes() == b.calib_ann.read_bytes()
    assert _ids(c.calib_ann) != calib
    # Annotations follow their images; categories are kept whole.
    sub = json.loads(a.holdout_ann.read_text())
    assert {x["image_id"] for x in sub["annotations"]} <= holdout
    assert sub["categories"] == full["categories"]


def test_calibration_never_takes_more_than_half(synth_coco_val: tuple[Path, Path], tmp_path: Path) -> None:
    split = split_coco(synth_coco_val[1], tmp_path, calib_images=1000)
    assert split.calib_images <= split.holdout_images


def test_too_few_images_is_one_line(tmp_path: Path) -> None:
    ann = tmp_path / "tiny.json"
    ann.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "a.jpg"}],
                "annotations": [
                    {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25, "iscrowd": 0}
                ],
                "categories": [],
            }
        )
    )
    with pytest.raises(InputError) as info:
        split_coco(ann, tmp_path / "out", calib_images=4)
    assert "tiny.json" in str(info.value) and "\n" not in str(info.value)
