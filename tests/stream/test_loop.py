"""The threaded loop end to end with real Runners, real OpenCV videos and real sinks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from objectix_edge.cascade.frame_cascade import Cascade, CascadeConfig, classify_rois
from objectix_edge.errors import InputError
from objectix_edge.runtime.base import Runner
from objectix_edge.stream.draw import draw_overlay, label_text
from objectix_edge.stream.frame_loop import LoopConfig, Pipeline, RunError
from objectix_edge.stream.media_sinks import VideoSink
from objectix_edge.stream.sinks import JsonlSink
from objectix_edge.stream.sources import GeneratorSource, VideoFileSource
from objectix_edge.stream.window import WindowSink
from tests.fixtures.media import (
    FPS,
    SlowRunner,
    decode_all,
    direct_rows,
    iou,
    record_rows,
    shape_frames,
    truncated_copy,
    video_info,
    write_video,
)

CONF = 0.3
N_FRAMES = 12


@pytest.fixture(scope="module")
def shapes_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[dict]]]:
    frames, annotations = shape_frames(N_FRAMES)
    return write_video(tmp_path_factory.mktemp("video") / "shapes.avi", frames, "png "), annotations


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_video_run_gives_one_record_per_frame_equal_to_the_runner_and_a_playable_video(
    detector: Runner, shapes_video: tuple[Path, list[list[dict]]], tmp_path: Path
) -> None:
    video, annotations = shapes_video
    sinks = [JsonlSink(tmp_path / "dets.jsonl"), VideoSink(tmp_path / "out.mp4", FPS)]
    summary = Pipeline(VideoFileSource(video), Cascade(detector, None, CascadeConfig(conf=CONF)), sinks).run()

    records = read_jsonl(tmp_path / "dets.jsonl")
    assert [r["frame"] for r in records] == list(range(N_FRAMES))
    assert (summary.frames_in, summary.processed, summary.dropped, summary.skipped, summary.stopped_by) == (
        N_FRAMES,
        N_FRAMES,
        0,
        0,
        "end",
    )
    for stage in ("capture", "preprocess", "detector", "postprocess", "render", "sinks", "latency"):
        assert summary.stages[stage].count == N_FRAMES
        assert 0 <= summary.stages[stage].p50_ms <= summary.stages[stage].p95_ms
    assert "classifier" not in summary.stages

    matched = total = 0
    for record, frame, truth in zip(records, decode_all(video), annotations, strict=True):
        assert (record["width"], record["height"]) == (160, 120)
        np.testing.assert_allclose(record_rows(record), direct_rows(detector, frame, CONF), atol=1e-4)
        assert all(d["classifier"] is None for d in record["detections"])
        # The trained detector finds the known shapes: same class, IoU >= 0.5.
        rows = record_rows(record)
        for ann in truth:
            x, y, w, h = ann["bbox"]
            gt = np.array([x, y, x + w, y + h])
            total += 1
            matched += any(int(r[5]) + 1 == ann["category_id"] and iou(r[:4], gt) >= 0.5 for r in rows)
    assert matched / total >= 0.5, f"only {matched}/{total} known shapes found"

    assert video_info(tmp_path / "out.mp4") == (N_FRAMES, 160, 120)
    assert not list(tmp_path.glob(".*.tmp*")), "temporary files left behind"


def test_cascade_sends_the_top_k_boxes_to_the_classifier_in_one_batch(
    detector: Runner, classifier: Runner, shapes_video: tuple[Path, list[list[dict]]], tmp_path: Path
) -> None:
    video, _ = shapes_video
    config = CascadeConfig(conf=0.05, top_k=2)
    summary = Pipeline(
        VideoFileSource(video),
        Cascade(detector, classifier, config),
        [JsonlSink(tmp_path / "d.jsonl")],
        LoopConfig(max_frames=6),
    ).run()
    records = read_jsonl(tmp_path / "d.jsonl")
    assert len(records) == 6 and summary.stopped_by == "max-frames"
    assert summary.stages["classifier"].count == 6  # one classifier call per frame
    many = 0
    for record, frame in zip(records, decode_all(video)[:6], strict=True):
        dets = record["detections"]
        scores = [d["score"] for d in dets]
        assert scores == sorted(scores, reverse=True)
        labelled = [d for d in dets if d["classifier"] is not None]
        assert len(labelled) == min(2, len(dets)) and dets[: len(labelled)] == labelled
        many += len(dets) > 2
        # The same crops classified in one direct batched call give the same labels.
        boxes = np.array([d["box"] for d in labelled], dtype=np.float32)
        if len(boxes):
            direct = classify_rois(classifier, frame, boxes, {})
            assert [d["classifier"]["name"] for d in labelled] == [r.name for r in direct]
            np.testing.assert_allclose(
                [d["classifier"]["score"] for d in labelled], [r.score for r in direct], atol=1e-5
            )
    assert many > 0, "no frame had more boxes than top-k; lower conf"


def test_live_source_faster_than_inference_drops_stale_frames_and_bounds_latency(
    detector: Runner, classifier: Runner, shapes_video: tuple[Path, list[list[dict]]], tmp_path: Path
) -> None:
    frames = decode_all(shapes_video[0])
    fps, count = 400.0, 240
    source = GeneratorSource(lambda i: frames[i % len(frames)], fps=fps, count=count, live=True)
    # The detector takes at least 20 ms a frame whatever the CPU (frames come every 2.5 ms): a fast machine
    # must drop frames too, or the test would judge the machine instead of the loop.
    slow = SlowRunner(detector, 0.02)
    summary = Pipeline(
        source, Cascade(slow, classifier, CascadeConfig(conf=0.05)), [JsonlSink(tmp_path / "live.jsonl")]
    ).run()

    records = read_jsonl(tmp_path / "live.jsonl")
    indices = [r["frame"] for r in records]
    assert summary.frames_in == count
    assert summary.dropped > 0 and summary.processed + summary.dropped == count
    assert len(records) == summary.processed
    assert indices == sorted(set(indices)) and indices[-1] > len(indices)  # gaps: stale frames skipped
    # Newest-frame policy: a frame waits at most for the inference in progress (plus a frame period), never
    # for frames queued before it (a camera's FIFO would hold 240 frames x inference here: seconds).
    # The slack only absorbs thread scheduling on a busy CI machine.
    infer_ms = max(
        sum(
            r["timings_ms"][k]
            for k in ("preprocess", "detector", "postprocess", "roi_crop", "classifier")
            if k in r["timings_ms"]
        )
        for r in records
    )
    waits = [r["timings_ms"]["wait"] for r in records]
    assert float(np.percentile(waits, 95)) < infer_ms + 1000.0 / fps + 100.0, (waits, infer_ms)
    assert max(waits) < infer_ms + 500.0, (waits, infer_ms)


def test_ordered_source_processes_every_frame_even_when_faster_than_inference(
    detector: Runner, shapes_video: tuple[Path, list[list[dict]]], tmp_path: Path
) -> None:
    frames = decode_all(shapes_video[0])
    source = GeneratorSource(lambda i: frames[i % len(frames)], fps=400.0, count=40, live=False)
    summary = Pipeline(source, Cascade(detector), [JsonlSink(tmp_path / "all.jsonl")]).run()
    assert [r["frame"] for r in read_jsonl(tmp_path / "all.jsonl")] == list(range(40))
    assert (summary.processed, summary.dropped) == (40, 0)


def test_truncated_video_stops_with_a_clear_error_and_a_complete_jsonl(
    detector: Runner, shapes_video: tuple[Path, list[list[dict]]], tmp_path: Path
) -> None:
    cut = truncated_copy(shapes_video[0], tmp_path / "cut.avi", 0.6)
    good = decode_all(cut)
    assert 2 <= len(good) < N_FRAMES
    with pytest.raises(
        RunError, match=r"cut\.avi: video ends at frame \d+ of 12 declared \(truncated or damaged\)"
    ) as info:
        Pipeline(
            VideoFileSource(cut),
            Cascade(detector, None, CascadeConfig(conf=CONF)),
            [JsonlSink(tmp_path / "cut.jsonl"), VideoSink(tmp_path / "cut.avi.mp4", FPS)],
        ).run()
    records = read_jsonl(tmp_path / "cut.jsonl")
    assert [r["frame"] for r in records] == list(range(len(good)))
    for record, frame in zip(records, good, strict=True):
        np.testing.assert_allclose(record_rows(record), direct_rows(detector, frame, CONF), atol=1e-4)
    assert info.value.summary.processed == len(good) and info.value.summary.stopped_by == "error"
    assert video_info(tmp_path / "cut.avi.mp4")[0] == len(good)


def test_overlay_draws_boxes_and_both_labels(
    detector: Runner, classifier: Runner, shapes_video: tuple[Path, list[list[dict]]]
) -> None:
    frame = decode_all(shapes_video[0])[0]
    result = Cascade(detector, classifier, CascadeConfig(conf=0.05, top_k=3))(frame)
    assert result.detections and result.detections[0].roi is not None
    text = label_text(result.detections[0])
    assert text.startswith(result.detections[0].detection.name) and f"| {result.detections[0].roi.name}" in text
    drawn = draw_overlay(frame, result.detections, "FPS 10.0 | det 1.0 ms")
    assert drawn.shape == frame.shape and not np.array_equal(drawn, frame)
    assert np.array_equal(frame, decode_all(shapes_video[0])[0])  # the input frame is not drawn on


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display variables are X11/Wayland")
@pytest.mark.parametrize(
    "display, message",
    [
        (None, "--show needs a display.*use --headless"),
        (":97", "--show: OpenCV cannot open a window here \\(.+\\); use --headless"),
    ],
)
def test_show_without_a_usable_display_is_a_one_line_error(
    display: str | None, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if display is None:
        monkeypatch.delenv("DISPLAY", raising=False)
    else:
        monkeypatch.setenv("DISPLAY", display)  # no X server there: Qt would abort the process
    with pytest.raises(InputError, match=message) as info:
        WindowSink()
    assert "\n" not in str(info.value)
