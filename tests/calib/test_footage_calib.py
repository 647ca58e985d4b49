"""Calibrating on your own footage, without labels: even, deterministic frame choice, the video's sha256
and the held-out stretch recorded, and an ROI classifier calibrated on a detector's boxes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.data.footage import plan_footage
from tests.fixtures.footage import FOOTAGE_FRAMES, Footage
from tests.fixtures.media import decode_all, write_pngs

runner = CliRunner()


def test_plan_samples_evenly_before_the_held_out_end(footage: Footage) -> None:
    plan = plan_footage(footage.video, num_frames=8, holdout=0.25)
    assert plan == plan_footage(footage.video, num_frames=8, holdout=0.25)  # deterministic, no seed
    assert plan.frames == FOOTAGE_FRAMES and plan.fps == 10.0
    assert plan.sha256 == hashlib.sha256(footage.video.read_bytes()).hexdigest()
    assert plan.holdout == (60, 80)
    # 8 frames spread over [0, 50): the 1-s gap (10 frames at 10 FPS) keeps twins of judged frames out.
    assert plan.calib_frames == (3, 9, 15, 21, 28, 34, 40, 46)
    every = plan_footage(footage.video, num_frames=512, every=7, holdout=0.25)
    assert every.calib_frames == tuple(range(0, 50, 7))
    thinned = plan_footage(footage.video, num_frames=3, every=7, holdout=0.25)
    assert set(thinned.calib_frames) <= set(every.calib_frames) and len(thinned.calib_frames) == 3


def test_frame_folder_is_footage_too(footage: Footage, tmp_path: Path) -> None:
    folder = write_pngs(tmp_path / "frames", decode_all(footage.video)[:40])
    plan = plan_footage(folder, num_frames=4, holdout=0.5)
    assert plan.frames == 40 and plan.holdout == (20, 40) and max(plan.calib_frames) < 20
    (folder / "frame_00000.png").write_bytes(cv2.imencode(".png", decode_all(footage.video)[50])[1].tobytes())
    assert plan_footage(folder, num_frames=4, holdout=0.5).sha256 != plan.sha256  # content, not names


def test_calibrate_detector_on_video_records_frames_and_split(footage: Footage, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "calibrate",
            str(footage.detector_onnx),
            "--int8",
            "--data",
            str(footage.video),
            "--every",
            "5",
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "frames 60–79 held out for parity" in result.output
    cache = json.loads((tmp_path / "det.calib.json").read_text())
    assert cache["footage"]["calib_frames"] == list(range(0, 50, 5)) == cache["image_ids"]
    assert cache["footage"]["holdout"] == [60, 80]
    assert cache["footage"]["sha256"] == hashlib.sha256(footage.video.read_bytes()).hexdigest()
    assert (tmp_path / "det.int8cpu.onnx").is_file() and (tmp_path / "det.int8.onnx").is_file()


def test_roi_classifier_calibrates_on_the_detectors_boxes(footage: Footage, tmp_path: Path) -> None:
    args = ["calibrate", str(footage.classifier_onnx), "--int8", "--data", str(footage.video), "--num-images", "6"]
    refused = runner.invoke(app, [*args, "-o", str(tmp_path)])
    assert refused.exit_code == 1 and "--detector" in refused.output and (len(refused.output.strip().splitlines()) == 1)
    done = runner.invoke(app, [*args, "--detector", str(footage.detector_onnx), "-o", str(tmp_path)])
    assert done.exit_code == 0, done.output
    cache = json.loads((tmp_path / "cls.calib.json").read_text())
    assert len(cache["footage"]["calib_frames"]) == 6 and max(cache["footage"]["calib_frames"]) < 50


@pytest.mark.parametrize("holdout", ["1.0", "-0.1"])
def test_bad_holdout_is_one_line(footage: Footage, tmp_path: Path, holdout: str) -> None:
    result = runner.invoke(
        app,
        [
            "calibrate",
            str(footage.detector_onnx),
            "--int8",
            "--data",
            str(footage.video),
            "--holdout",
            holdout,
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1 and "--holdout" in result.output
