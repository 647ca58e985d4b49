"""Unusable annotations are counted by reason and said once (never dropped unseen); a file with nothing
usable left is refused. Real photos and the test detector through `objx-edge eval`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.data.coco import load_coco
from tests.conftest import REPO_ROOT

SAMPLES = REPO_ROOT / "samples" / "coco"
DETECTOR = REPO_ROOT / "tests" / "assets" / "calib" / "detector.onnx"


def with_bad_annotations(tmp_path: Path, keep_good: bool = True) -> Path:
    data = json.loads(next((SAMPLES / "annotations").glob("*.json")).read_text())
    img = data["images"][0]
    cat = data["categories"][0]["id"]
    w = img["width"]
    bad = [
        {"image_id": img["id"], "category_id": cat, "bbox": [10, 10, 0.5, 20]},  # under 1 px
        {"image_id": img["id"], "category_id": cat, "bbox": [10, 10, -5, 20]},  # negative
        {"image_id": img["id"], "category_id": cat, "bbox": [w + 10, 10, 20, 20]},  # off the image
        {"image_id": img["id"], "category_id": 999999, "bbox": [10, 10, 20, 20]},  # unknown category
        {"image_id": 424242, "category_id": cat, "bbox": [10, 10, 20, 20]},  # no such image
    ]
    start = max(a["id"] for a in data["annotations"]) + 1
    for i, ann in enumerate(bad):
        ann.update(id=start + i, area=20.0, iscrowd=0)
    data["annotations"] = (data["annotations"] if keep_good else []) + bad
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(data))
    return path


EXPECTED = (
    "dropped 5 annotation(s): 1 of images not in the file, 1 of category ids not in its categories, "
    "2 with boxes under 1 px (or negative), 1 with boxes outside their image"
)


def test_eval_says_once_what_it_dropped_and_why(tmp_path: Path) -> None:
    ann = with_bad_annotations(tmp_path)
    result = CliRunner().invoke(app, ["eval", str(DETECTOR), "--data", str(SAMPLES / "images"), "--ann", str(ann)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if "dropped" in line]
    assert notes == [f"note: {ann}: {EXPECTED}"]
    original = load_coco(SAMPLES / "images", next((SAMPLES / "annotations").glob("*.json")))
    source = load_coco(SAMPLES / "images", ann)
    for image_id in source.image_ids:  # the bad boxes never become targets
        np.testing.assert_array_equal(source.targets(image_id).boxes, original.targets(image_id).boxes)


def test_a_file_with_nothing_usable_is_refused(tmp_path: Path) -> None:
    ann = with_bad_annotations(tmp_path, keep_good=False)
    result = CliRunner().invoke(app, ["eval", str(DETECTOR), "--data", str(SAMPLES / "images"), "--ann", str(ann)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {ann}: no usable annotation left ({EXPECTED}); fix the annotations"
