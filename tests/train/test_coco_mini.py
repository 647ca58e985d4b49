"""A tiny real-COCO run: train on a few coco-mini images, evaluate the checkpoint with pycocotools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from objectix_edge.cli.app import app


def _subset(ann: Path, out: Path, start: int, count: int) -> Path:
    data = json.loads(ann.read_text())
    data["images"] = data["images"][start : start + count]
    keep = {img["id"] for img in data["images"]}
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in keep]
    out.write_text(json.dumps(data))
    return out


@pytest.mark.slow
def test_train_and_eval_on_coco_mini(coco_mini: Path, tmp_path: Path) -> None:
    ann = coco_mini / "annotations" / "instances_train2017.json"
    train_json, val_json = _subset(ann, tmp_path / "train.json", 0, 16), _subset(ann, tmp_path / "val.json", 300, 8)
    images = coco_mini / "images"
    tiny = ["--imgsz", "128", "--model-arg", "width_mult=0.25", "--model-arg", "depth_mult=0.34"]
    result = CliRunner().invoke(
        app,
        ["train", "--model", "mobilenet-det", "--data", str(images), "--ann", str(train_json),
         "--categories", "person,car", "--epochs", "1", "--batch", "8", "--out", str(tmp_path / "run"),
         "--no-progress", *tiny],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = tmp_path / "eval.json"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            str(tmp_path / "run" / "last.pt"),
            "--data",
            str(images),
            "--ann",
            str(val_json),
            "--json",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(report.read_text())["figures"]
    assert figures["images"] == 8 and figures["detections"] > 0
    assert all(0.0 <= figures[k] <= 1.0 for k in ("map", "ap50", "ap75", "ar100"))
