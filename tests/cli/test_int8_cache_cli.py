"""Both INT8 forms record the sha256 of the calibration cache they were made from; a set whose parts
disagree (a calibrate killed midway, files mixed from two runs) is refused by every reader."""

from __future__ import annotations

import shutil
from pathlib import Path

import onnx
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.export.calib_cache import sha256_file
from objectix_edge.export.metadata import CALIB_CACHE_METADATA_KEY
from tests.conftest import REPO_ROOT

ASSETS = REPO_ROOT / "tests" / "assets" / "calib"
SAMPLES = REPO_ROOT / "samples" / "coco"
PHOTO = sorted((SAMPLES / "images").iterdir())[0]


def calibrate(model: Path, out: Path, images: int) -> None:
    ann = next((SAMPLES / "annotations").glob("*.json"))
    args = ["calibrate", model, "--int8", "--data", SAMPLES / "images", "--ann", ann, "--num-images", str(images)]
    result = CliRunner().invoke(app, [str(a) for a in [*args, "--out-dir", out]])
    assert result.exit_code == 0, result.output


def test_int8_files_made_from_another_cache_are_refused(tmp_path: Path) -> None:
    model = Path(shutil.copy(ASSETS / "detector.onnx", tmp_path / "det.onnx"))
    calibrate(model, tmp_path / "a", 4)
    calibrate(model, tmp_path / "b", 3)
    cache = tmp_path / "a" / "det.calib.json"
    for form in ("int8", "int8cpu"):
        meta = {p.key: p.value for p in onnx.load(str(tmp_path / "a" / f"det.{form}.onnx")).metadata_props}
        assert meta[CALIB_CACHE_METADATA_KEY] == sha256_file(cache)
    predict = ["predict", str(tmp_path / "a" / "det.int8cpu.onnx"), "--image", str(PHOTO)]
    assert CliRunner().invoke(app, predict).exit_code == 0  # a consistent set opens
    shutil.copy(tmp_path / "b" / "det.calib.json", cache)  # as if the run had died after the new cache
    result = CliRunner().invoke(app, predict)
    assert result.exit_code == 1
    assert result.stderr.strip().startswith(
        f"error: {tmp_path / 'a' / 'det.int8cpu.onnx'}: made from another calibration than det.calib.json beside it"
    )
    assert f"--from-cache {cache}" in " ".join(result.stderr.split())
