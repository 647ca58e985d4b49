"""`objx-edge import` and `objx-edge predict` end to end: files written, numbers printed, every refusal one line."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.models.checkpoint import load_checkpoint
from tests.models.seed_reference import FourClassRef, MobileLikeRef, ObjectixRef, spread_weights


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(result) -> str:
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.fixture(scope="module")
def objectix_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("objectix_cli") / "88000.torch"
    torch.save(spread_weights(ObjectixRef(multiply=True, layers=(1, 1, 1, 1)), seed=1).state_dict(), path)
    return path


@pytest.fixture(scope="module")
def photo(coco_mini: Path) -> Path:
    return coco_mini / "images" / "000000000009.jpg"


def test_import_objectix_then_predict_prints_top_k_and_writes_softmax(
    objectix_file: Path, photo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "objectix.pt"
    result = invoke("import", "objectix", objectix_file, "-o", out)
    assert result.exit_code == 0, result.output
    assert "objectix-resnet50" in result.output and "multiplied" in result.output
    assert load_checkpoint(out).spec.name == "objectix-resnet50"
    h, w = cv2.imread(str(photo)).shape[:2]
    mask = np.zeros((h, w), np.uint8)
    mask[100:300, 200:400] = 1
    cv2.imwrite(str(tmp_path / "mask.png"), mask)
    result = invoke(
        "predict", out, "--image", photo, "--mask", tmp_path / "mask.png", "--top", 3, "--json", tmp_path / "p.json"
    )
    assert result.exit_code == 0, result.output
    probs = json.loads((tmp_path / "p.json").read_text())["probabilities"]
    assert len(probs) == 80 and abs(sum(probs) - 1) < 1e-6
    best = int(np.argmax(probs))
    assert load_checkpoint(out).spec.categories[best].name in result.output.splitlines()[0]


def test_predict_mask_of_another_size_is_refused(objectix_file: Path, photo: Path, tmp_path: Path) -> None:
    out = tmp_path / "objectix.pt"
    assert invoke("import", "objectix", objectix_file, "-o", out).exit_code == 0
    cv2.imwrite(str(tmp_path / "small.png"), np.ones((10, 12), np.uint8))
    line = one_error_line(
        invoke("predict", out, "--image", photo, "--mask", tmp_path / "small.png", "--json", tmp_path / "p.json")
    )
    assert "small.png: mask is 12×10 but the image is" in line
    assert not (tmp_path / "p.json").exists()


def test_import_refusals_one_line_nothing_written(objectix_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pt"
    line = one_error_line(invoke("import", "mobilelike-det", objectix_file, "-o", out))
    assert "its keys look like objectix" in line and "objx-edge import objectix" in line
    cls = tmp_path / "cls.pth"
    torch.save(FourClassRef(layers=(3, 4, 6, 3)).net.state_dict(), cls)
    line = one_error_line(invoke("import", "torchvision-classifier", cls, "-o", out, "--categories", "bird,boat"))
    assert "head has 4 outputs but --categories names 2" in line
    line = one_error_line(invoke("import", "yolo", cls, "-o", out))
    assert "unknown import format 'yolo'" in line
    assert not out.exists()


def test_import_detector_then_predict_writes_rows_in_image_pixels(photo: Path, tmp_path: Path) -> None:
    src = tmp_path / "v2weights.ckpt"
    torch.save({"model_state_dict": MobileLikeRef(classes=2, boxes=1, scaled=False).state_dict(), "epoch": 1}, src)
    out = tmp_path / "det.pt"
    result = invoke("import", "mobilelike-det", src, "-o", out, "--num-classes", 2, "--categories", "cat,dog")
    assert result.exit_code == 0 and "kept aside for train --init-from: epoch" in result.output, result.output
    result = invoke("predict", out, "--image", photo, "--json", tmp_path / "d.json")
    assert result.exit_code == 0, result.output
    rows = np.asarray(json.loads((tmp_path / "d.json").read_text())["detections"])
    h, w = cv2.imread(str(photo)).shape[:2]
    assert rows.shape == (100, 6) and (rows[:, [0, 2]] <= w).all() and (rows[:, [1, 3]] <= h).all()
    assert set(rows[:, 5]) <= {0.0, 1.0} and (np.diff(rows[:, 4]) <= 0).all()
