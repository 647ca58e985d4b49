"""Per-camera health in the run summary and the JSONL: frame age, a frozen picture, drift against the
calibration footage (PSI), on real videos through the real loop."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from objectix_edge.calib.int8 import Int8Config, run_int8
from objectix_edge.serve.run_config import RunConfig
from objectix_edge.serve.session import run_pipeline
from objectix_edge.stream.frame_loop import LoopConfig
from objectix_edge.stream.health import PSI_WARN, profile, psi
from objectix_edge.stream.sources import VideoFileSource
from tests.fixtures.footage import Footage
from tests.fixtures.media import decode_all, shape_frames, write_video


@pytest.fixture(scope="module")
def calibrated(footage: Footage, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The detector's INT8 CPU form calibrated on the footage: its cache holds the detections' profile."""
    out = tmp_path_factory.mktemp("health")
    return run_int8(footage.detector_onnx, Int8Config(data=footage.video, every=5, out_dir=out)).files["int8cpu"]


def test_psi_rules_of_thumb() -> None:
    same = profile([np.array([0.9, 0.5, 0.35])] * 10)
    assert psi(same.counts, same.counts) == 0.0 and psi(same.scores, same.scores) == 0.0
    fewer = profile([np.array([0.9])] * 10)
    assert psi(same.counts, fewer.counts) > PSI_WARN  # 3 objects a frame → 1: a different scene


def test_same_scene_no_drift_other_scene_drifts_once(footage: Footage, calibrated: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "same.jsonl"
    looped = VideoFileSource(footage.video, loop=True)
    same = run_pipeline(looped, RunConfig(detector=calibrated, jsonl=jsonl, loop=LoopConfig(max_frames=200)))
    health = same.health
    assert health is not None and not health.drift_warned
    assert health.drift_psi_counts is not None and health.drift_psi_scores is not None
    assert max(health.drift_psi_counts, health.drift_psi_scores) < PSI_WARN
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert (
        all(r["timings_ms"]["age"] >= 0 and r["health"]["frozen_s"] == 0 for r in records)
        and sum("drift" in r["health"] for r in records) == 3
    )

    frames, _ = shape_frames(150, seed=3)  # random shapes on random backgrounds, a different "camera"
    other = write_video(tmp_path / "other.avi", frames)
    notes: list[str] = []
    drifted = run_pipeline(VideoFileSource(other), RunConfig(detector=calibrated), notify=notes.append).health
    assert drifted is not None and drifted.drift_warned
    assert sum("drifted" in n for n in notes) == 1  # warned once, not on every update


def test_frozen_picture_is_one_episode(footage: Footage, tmp_path: Path) -> None:
    frames = decode_all(footage.video)[:20]
    stuck = write_video(
        tmp_path / "stuck.avi", frames[:5] + [frames[5]] * 25 + frames[6:]
    )  # 25 identical frames: 2.4 s at 10 FPS
    notes: list[str] = []
    config = RunConfig(detector=footage.detector_onnx, frozen_s=2.0)
    health = run_pipeline(VideoFileSource(stuck), config, notify=notes.append).health
    assert health is not None and health.frozen_episodes == 1 and health.longest_frozen_s == pytest.approx(2.4)
    assert health.decode_errors == 0 and health.reconnects == 0
    assert sum("has not changed" in n for n in notes) == 1
