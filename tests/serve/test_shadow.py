"""Shadow mode: the original re-checks the deployed detector on its own worker thread; the verdict says
whether the deployed file still agrees. Real ONNX Runtime / torch runners on a real OpenCV video."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from objectix_edge.calib.int8 import Int8Config, run_int8
from objectix_edge.cascade.frame_cascade import Cascade, CascadeConfig
from objectix_edge.cli.app import app
from objectix_edge.runtime.open import open_runner
from objectix_edge.serve.run_config import RunConfig
from objectix_edge.serve.session import run_pipeline
from objectix_edge.serve.shadow import AGREES, DISAGREES, ShadowConfig, ShadowMonitor
from objectix_edge.stream.frame_loop import Pipeline
from objectix_edge.stream.sinks import JsonlSink
from objectix_edge.stream.sources import VideoFileSource
from tests.fixtures.footage import FOOTAGE_FRAMES, Footage, make_hostile_detector
from tests.fixtures.media import SlowRunner

runner = CliRunner()


@pytest.fixture(scope="module")
def hostile_int8(footage: Footage, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The detector made hostile to INT8 (same FP32 function), calibrated on the footage: its CPU form."""
    out = tmp_path_factory.mktemp("hostile_det")
    onnx = make_hostile_detector(footage.detector_pt, out / "hostile_det.onnx")
    return run_int8(onnx, Int8Config(data=footage.video, every=5)).files["int8cpu"]


def test_fp32_onnx_agrees_with_its_original(footage: Footage, tmp_path: Path) -> None:
    jsonl = tmp_path / "run.jsonl"
    config = RunConfig(detector=footage.detector_onnx, jsonl=jsonl, shadow=footage.detector_pt, shadow_every=2)
    summary = run_pipeline(VideoFileSource(footage.video), config)
    shadow = summary.shadow
    assert shadow is not None and shadow.verdict.state == AGREES, shadow.verdict.describe()
    # A file is not live: every 2nd processed frame is checked, none dropped.
    assert (shadow.submitted, shadow.checked, shadow.dropped, shadow.unfinished) == (FOOTAGE_FRAMES // 2, 40, 0, 0)
    assert shadow.verdict.matched == shadow.verdict.confident >= 50
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    checked = sorted(c["frame"] for r in records if "shadow" in r for c in r["shadow"]["checks"])
    # Checks finished after the last frame are in the summary only; the rest ride on the frame they finished at.
    assert set(checked) <= set(range(0, FOOTAGE_FRAMES, 2)) and len(checked) >= 30
    assert all("shadow" in r["timings_ms"] for r in records)


def test_hostile_int8_disagrees(footage: Footage, hostile_int8: Path) -> None:
    result = runner.invoke(
        app,
        [
            "run",
            "--video",
            str(footage.video),
            "--detector",
            str(hostile_int8),
            "--shadow",
            str(footage.detector_pt),
            "--shadow-every",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "deployed detector disagrees with the shadow" in result.output


def test_live_source_never_waits_for_a_slow_shadow(footage: Footage, tmp_path: Path) -> None:
    """A shadow slower than the camera: requests are dropped (counted), segment verdicts still come."""
    with open_runner(footage.detector_onnx) as det, open_runner(footage.detector_pt) as original:
        slow = SlowRunner(original, 0.25)
        source = VideoFileSource(footage.video, realtime=True, pace_fps=40.0)
        monitor = ShadowMonitor(slow, det, ShadowConfig(every=1, segment_s=0.5, live=True), fps=40.0)
        jsonl = tmp_path / "live.jsonl"
        summary = Pipeline(source, Cascade(det, None, CascadeConfig()), [JsonlSink(jsonl)], shadow=monitor).run()
    shadow = summary.shadow
    assert shadow is not None and shadow.dropped > 0
    assert shadow.submitted == summary.processed  # every processed frame was offered (every 1)
    assert shadow.checked + shadow.dropped + shadow.unfinished == shadow.submitted  # none lost silently
    assert shadow.segments and shadow.verdict.state != DISAGREES
    verdicts = [
        json.loads(line)["shadow"]["verdict"]
        for line in jsonl.read_text().splitlines()
        if "verdict" in json.loads(line).get("shadow", {})
    ]
    assert len(verdicts) == len(shadow.segments)
