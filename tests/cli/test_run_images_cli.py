"""`run --images`: a folder of photos is not a video. No tracking unless asked (a track would carry one
photo's label over to another photo's box), and every shown box of every image is classified."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from objectix_edge.cli.app import app
from tests.conftest import REPO_ROOT

ASSETS = REPO_ROOT / "tests" / "assets" / "calib"
PHOTOS = REPO_ROOT / "samples" / "coco" / "images"


def records(tmp_path: Path, *extra: str) -> list[dict]:
    out = tmp_path / "r.jsonl"
    args = ["run", "--images", str(PHOTOS), "--detector", str(ASSETS / "detector.onnx")]
    args += ["--classifier", str(ASSETS / "classifier.onnx"), "--conf", "0.1", "--jsonl", str(out), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_an_image_folder_is_not_tracked_and_every_box_is_classified(tmp_path: Path) -> None:
    found = records(tmp_path)
    boxes = [d for r in found for d in r["detections"]]
    assert len(found) == len(list(PHOTOS.iterdir())) and boxes
    assert all(d["track_id"] is None for d in boxes)
    for r in found:  # each photo's own best --top-k (5) boxes are classified, on that photo
        best = sorted(r["detections"], key=lambda d: -d["score"])[:5]
        assert best and all(d["classifier"] is not None and d["classifier"]["frame"] == r["frame"] for d in best)


def test_tracking_an_image_folder_only_when_asked(tmp_path: Path) -> None:
    found = records(tmp_path, "--track")
    assert any(d["track_id"] is not None for r in found for d in r["detections"])
