"""Parity on footage without labels: agreement gates with block-bootstrap intervals over frames, judged
on the frames calibration held out; the drop is "not judged (no labels)"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from objectix_edge.calib.int8 import Int8Config, run_int8
from objectix_edge.cli.app import app
from objectix_edge.eval.footage_parity import run_footage_parity
from objectix_edge.eval.parity_config import FootageParityConfig
from objectix_edge.eval.uncertainty import block_bootstrap_weights, block_length
from objectix_edge.eval.verdict import NOT_JUDGED, Verdict
from tests.fixtures.footage import Footage

runner = CliRunner()


def test_block_bootstrap_resamples_runs_of_consecutive_frames() -> None:
    weights = block_bootstrap_weights(20, 5, replicates=2000, seed=1)
    assert weights.shape == (2000, 20) and np.all(weights.sum(1) == 20)
    assert np.allclose(weights.mean(0), 1.0, atol=0.1)  # circular: every frame is drawn equally often
    assert np.all(block_bootstrap_weights(20, 20, replicates=50) == 1)  # one block wrapping the whole video
    # Blocks keep neighbours together: adjacent frames' counts are correlated, far more than in the plain bootstrap.
    adjacent = np.corrcoef(weights[:, 7], weights[:, 8])[0, 1]
    single = block_bootstrap_weights(20, 1, replicates=2000, seed=1)
    assert adjacent > 0.5 > np.corrcoef(single[:, 7], single[:, 8])[0, 1]
    assert block_length(100) == 10 and block_length(100, frames_per_second=25.0) == 25 and block_length(4, 30) == 4


@pytest.fixture(scope="module")
def int8_on_footage(footage: Footage, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("int8_footage")
    det = run_int8(footage.detector_onnx, Int8Config(data=footage.video, every=5, out_dir=out))
    hostile = run_int8(
        footage.hostile_onnx,
        Int8Config(data=footage.video, every=5, out_dir=out, detector=footage.detector_onnx),
    )
    return {"detector": det.files["int8cpu"], "hostile": hostile.files["int8cpu"]}


def test_fp32_onnx_reproduces_its_original_on_footage(footage: Footage) -> None:
    report = run_footage_parity(footage.detector_onnx, footage.detector_pt, FootageParityConfig(footage.video))
    assert report.verdict == Verdict.PASS, report.message
    assert report.detection is not None and report.detection.match.unmatched == 0
    assert report.evidence.drop is None and report.detection.map_reference is None
    assert report.footage is not None and report.footage["frames_judged"] == list(range(80))  # no cache: all


def test_int8_detector_passes_on_held_out_frames_only(footage: Footage, int8_on_footage: dict[str, Path]) -> None:
    report = run_footage_parity(int8_on_footage["detector"], footage.detector_pt, FootageParityConfig(footage.video))
    assert report.footage is not None and report.footage["frames_judged"] == list(range(60, 80))
    assert report.footage["chosen_by"] == "held out by the calibration cache"
    assert report.footage["block_length"] == 10  # one second at 10 FPS > √20
    assert report.verdict == Verdict.PASS, report.message  # last run: agreement 93.8 [92.6, 95.3] ≥ 70
    assert report.evidence.matched is not None and report.evidence.matched.low >= 90.0
    assert NOT_JUDGED in report.message and report.judgement.unit == "frames"


def test_calibrated_frames_are_refused(footage: Footage, int8_on_footage: dict[str, Path]) -> None:
    result = runner.invoke(
        app,
        [
            "parity",
            str(int8_on_footage["detector"]),
            "-r",
            str(footage.detector_pt),
            "--video",
            str(footage.video),
            "--frames",
            "0:40",
        ],
    )
    assert result.exit_code == 1 and "calibrated on" in result.output


def test_hostile_int8_classifier_fails_on_the_detectors_boxes(
    footage: Footage, int8_on_footage: dict[str, Path], tmp_path: Path
) -> None:
    args = [
        "parity",
        "-r",
        str(footage.classifier_pt),
        "--video",
        str(footage.video),
        "--detector",
        str(footage.detector_onnx),
        "--json",
        str(tmp_path / "p.json"),
    ]
    failed = runner.invoke(app, [args[0], str(int8_on_footage["hostile"]), *args[1:]])
    assert failed.exit_code == 1, failed.output
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["verdict"] == "FAIL" and data["evidence"]["agreement"]["high"] < 95.0
    assert data["footage"]["frames_judged"] == list(range(60, 80)) and data["evidence"]["drop"] is None
    fp32 = runner.invoke(app, [args[0], str(footage.hostile_onnx), *args[1:]])  # same FP32 function: exact
    assert fp32.exit_code == 0, fp32.output
    assert "not judged (no labels)" in fp32.output


def test_deploy_on_footage_alone(footage: Footage, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    result = runner.invoke(
        app,
        [
            "deploy",
            str(footage.detector_pt),
            "--video",
            str(footage.video),
            "--out",
            str(out),
            "--calib-images",
            "8",
            "--parity-images",
            "20",
            "--batch",
            "1",
            "--warmup",
            "1",
            "--iters",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "report.json").read_text())
    assert record["calibration"]["footage"]["holdout"] == [60, 80]
    assert {p["unit"] for p in record["parity"]} == {"frames"} and len(record["parity"]) == 4
    assert all(p["drop_points"] is None for p in record["parity"])
    verdicts = {p["artifact"]: p["verdict"] for p in record["parity"]}
    assert verdicts["model.onnx"] == "PASS" and verdicts["model.int8cpu.onnx"] == "PASS"
    assert "not judged (no labels)" in (out / "report.md").read_text()
