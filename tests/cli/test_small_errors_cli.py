"""Small one-line errors that used to mislead: bench --reference of another model, calibration folders
that are empty or miss images listed in the annotations."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from objectix_edge.cli.app import app
from tests.conftest import REPO_ROOT

ASSETS = REPO_ROOT / "tests" / "assets" / "calib"
SAMPLES = REPO_ROOT / "samples" / "coco"


def one_error(args: list[str | Path]) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_bench_refuses_a_reference_no_artifact_came_from() -> None:
    reference = ASSETS / "classifier.pt"
    assert one_error(["bench", ASSETS / "detector.onnx", "--reference", reference, "--iters", "3"]) == (
        f"error: {reference}: --reference is a resnet50-roi (roi-classify) checkpoint, but no artifact was made "
        "from it; give the checkpoint the artifacts came from, or drop --reference"
    )


def test_calibration_folders_that_are_empty_or_miss_listed_images(tmp_path: Path) -> None:
    model = shutil.copy(ASSETS / "detector.onnx", tmp_path / "det.onnx")
    empty = tmp_path / "empty"
    empty.mkdir()
    # Without --ann a folder is footage (frames of your camera): the same one line, naming the folder.
    assert one_error(["calibrate", model, "--int8", "--data", empty]).startswith(
        f"error: {empty}: holds no images (.jpg, .jpeg, .png, .bmp"
    )
    partial = tmp_path / "partial"
    partial.mkdir()
    photos = sorted((SAMPLES / "images").iterdir())
    for photo in photos[:3]:
        shutil.copy(photo, partial / photo.name)
    ann = next((SAMPLES / "annotations").glob("*.json"))
    line = one_error(["calibrate", model, "--int8", "--data", partial, "--ann", ann])
    assert line.startswith(f"error: {partial}: {len(photos) - 3} images listed in {ann.name} are missing (e.g. ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["det.onnx", "empty", "partial"]  # nothing written
