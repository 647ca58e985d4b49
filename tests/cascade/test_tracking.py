"""Tracking and per-track classification through the real loop: trained detector, real ByteTrack, real
ROI classifier Runners, generated videos of persistent moving shapes with known boxes."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch

from objectix_edge.cascade.frame_cascade import Cascade, CascadeConfig
from objectix_edge.cascade.track_labels import ReclassifyPolicy, box_area
from objectix_edge.cascade.tracking import TrackConfig, Tracker
from objectix_edge.data.moving_shapes import NAMES, MovingObject, moving_shapes
from objectix_edge.modelio.roi_feeds import preprocess_rois
from objectix_edge.models.checkpoint import save_checkpoint
from objectix_edge.models.registry import create_model
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.open import open_runner
from objectix_edge.spec import RoiMode
from objectix_edge.stream.draw import draw_overlay, label_text
from objectix_edge.stream.frame_loop import LoopConfig, Pipeline
from objectix_edge.stream.run_stats import RunSummary
from objectix_edge.stream.sinks import JsonlSink
from objectix_edge.stream.sources import VideoFileSource
from tests.fixtures.media import SHAPES, SlowRunner, decode_all, iou, write_video

N_FRAMES = 30
CONF = 0.12  # the tiny test detector scores some shapes low; ByteTrack still sees boxes down to 0.05
TRACKED = CascadeConfig(conf=CONF, track=TrackConfig(floor=0.05), reclassify=ReclassifyPolicy(every=5, area_growth=1.5))


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[MovingObject]]]:
    frames, truth = moving_shapes(N_FRAMES, seed=3)
    return write_video(tmp_path_factory.mktemp("moving") / "moving.avi", frames, "png ", fps=100.0), truth


def run(video: Path, cascade: Cascade, out: Path, realtime: bool = False) -> tuple[RunSummary, list[dict]]:
    summary = Pipeline(VideoFileSource(video, realtime=realtime), cascade, [JsonlSink(out)]).run()
    return summary, [json.loads(line) for line in out.read_text().splitlines()]


def assign(record: dict, truth: list[MovingObject]) -> dict[int, dict]:
    """Known object index → the detection of its category that covers it best (IoU >= 0.5), if any."""
    out = {}
    for obj in truth:
        hits = [d for d in record["detections"] if d["category_id"] == obj.category_id]
        best = max(hits, key=lambda d: iou(np.array(d["box"]), np.array(obj.box)), default=None)
        if best is not None and iou(np.array(best["box"]), np.array(obj.box)) >= 0.5:
            out[obj.index] = best
    return out


def test_each_moving_shape_keeps_one_track_id(
    detector: Runner, moving: tuple[Path, list[list[MovingObject]]], tmp_path: Path
) -> None:
    video, truth = moving
    summary, records = run(video, Cascade(detector, None, TRACKED), tmp_path / "t.jsonl")
    assert summary.processed == N_FRAMES
    ids: dict[int, list[int | None]] = defaultdict(list)
    for record, objects in zip(records, truth, strict=True):
        for index, det in assign(record, objects).items():
            ids[index].append(det["track_id"])
    for index, seen in ids.items():
        assert len(seen) >= N_FRAMES - 2, f"{NAMES[index]} found on {len(seen)} of {N_FRAMES} frames"
        # ByteTrack confirms a track on its second frame; from then on the id never changes.
        assert seen[0] is None or seen[0] == seen[1]
        assert len(set(seen[1:])) == 1 and seen[1] is not None, (NAMES[index], seen)
    assert len({seen[-1] for seen in ids.values()}) == len(NAMES)  # one id per object


def classification_frames(records: list[dict]) -> dict[int, list[tuple[int, float]]]:
    """Per track: (frame, box area) of every frame it is shown on, and the frames its label came from."""
    shown: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for record in records:
        for det in record["detections"]:
            if det["track_id"] is not None:
                shown[det["track_id"]].append((record["frame"], box_area(det["box"])))
    return shown


def test_reclassify_every_5_classifies_each_track_exactly_as_the_rule_allows(
    detector: Runner, classifier: Runner, moving: tuple[Path, list[list[MovingObject]]], tmp_path: Path
) -> None:
    video, _ = moving
    config = dataclasses.replace(TRACKED, top_k=50)  # no track waits for room in the batch
    summary, records = run(video, Cascade(detector, classifier, config), tmp_path / "r.jsonl")
    assert summary.classifier is not None and summary.classifier.mode == "tracked"
    label_frames: dict[int, list[int]] = defaultdict(list)
    votes: dict[int, list[int]] = defaultdict(list)
    for record in records:
        for det in record["detections"]:
            tid, roi = det["track_id"], det["classifier"]
            assert (roi is None) == (tid is None)  # every tracked box shows a label from its first tracked frame
            if roi is not None and (not label_frames[tid] or label_frames[tid][-1] != roi["frame"]):
                label_frames[tid].append(roi["frame"])
                votes[tid].append(roi["votes"])
    expected_total = grown = 0
    for tid, seen in classification_frames(records).items():
        # Replay the rule over the frames the track was shown on: first frame, then 5 frames after the last
        # classification or as soon as the area reached 1.5x the area then.
        expected, last_frame, last_area = [], None, 0.0
        for frame, area in seen:
            if last_frame is None or frame - last_frame >= 5 or area >= 1.5 * last_area:
                grown += last_frame is not None and frame - last_frame < 5
                expected.append(frame)
                last_frame, last_area = frame, area
        assert label_frames[tid] == expected, tid
        assert votes[tid] == list(range(1, len(expected) + 1))  # the label averages every answer so far
        expected_total += len(expected)
    assert grown >= 1, "the growing square never triggered an early reclassification"
    assert summary.classifier.rois == expected_total
    assert summary.classifier.rois < sum(len(r["detections"]) for r in records) / 3  # far fewer than every box


def test_still_object_shows_the_every_frame_label(
    detector: Runner, classifier: Runner, moving: tuple[Path, list[list[MovingObject]]], tmp_path: Path
) -> None:
    video, truth = moving
    every = CascadeConfig(conf=CONF, top_k=10)  # no tracking, every box of every frame
    _, tracked = run(video, Cascade(detector, classifier, TRACKED), tmp_path / "a.jsonl")
    _, each = run(video, Cascade(detector, classifier, every), tmp_path / "b.jsonl")
    still = NAMES.index("triangle still")
    every_score: dict[int, float] = {}
    asked: list[int] = []  # frames the tracked run classified the still triangle on
    compared = 0
    for rec_t, rec_e, objects in zip(tracked, each, truth, strict=True):
        t, e = assign(rec_t, objects).get(still), assign(rec_e, objects).get(still)
        if e is not None:
            every_score[rec_e["frame"]] = e["classifier"]["score"]
        if t is None or e is None or t["classifier"] is None:
            continue
        assert t["box"] == e["box"]  # the detector sees the same still object the same way
        assert t["classifier"]["name"] == e["classifier"]["name"]
        if not asked or asked[-1] != t["classifier"]["frame"]:
            asked.append(t["classifier"]["frame"])
        # Its label is the mean of the answers it was given: each one the every-frame answer of that frame
        # (the context around the triangle changes a little as the square in the lane above passes by).
        expected = float(np.mean([every_score[f] for f in asked]))
        assert t["classifier"]["score"] == pytest.approx(expected, abs=1e-5)
        compared += 1
    assert len(asked) >= 2
    assert compared >= N_FRAMES - 2


def test_files_classify_the_same_frames_whatever_the_classifier_speed(
    detector: Runner, classifier: Runner, moving: tuple[Path, list[list[MovingObject]]], tmp_path: Path
) -> None:
    video, _ = moving
    _, fast = run(video, Cascade(detector, classifier, TRACKED), tmp_path / "fast.jsonl")
    slow_runner = SlowRunner(classifier, 0.05)
    summary, slow = run(video, Cascade(detector, slow_runner, TRACKED), tmp_path / "slow.jsonl")
    strip = ("timestamp", "timings_ms")
    assert [{k: v for k, v in r.items() if k not in strip} for r in slow] == [
        {k: v for k, v in r.items() if k not in strip} for r in fast
    ]
    assert summary.classifier is not None and summary.classifier.dropped_requests == 0
    assert slow_runner.calls == summary.classifier.requests


def test_slow_classifier_on_a_realtime_source_drops_requests_not_frames(
    detector: Runner, classifier: Runner, moving: tuple[Path, list[list[MovingObject]]], tmp_path: Path
) -> None:
    video, _ = moving  # 100 FPS: frames arrive every 10 ms; the classifier takes 150 ms a call
    slow_runner = SlowRunner(classifier, 0.15)
    config = CascadeConfig(conf=CONF, track=TrackConfig(floor=0.05), reclassify=ReclassifyPolicy(every=1), queue_size=1)
    summary, records = run(video, Cascade(detector, slow_runner, config), tmp_path / "rt.jsonl", realtime=True)
    c = summary.classifier
    assert c is not None and c.mode == "async"
    assert c.dropped_requests > 0 and c.dropped_rois >= c.dropped_requests
    assert c.requests == c.answered + c.dropped_requests + c.unfinished  # every request accounted for
    assert slow_runner.calls == c.answered
    # The detector handled every frame the source delivered except those a newer frame replaced.
    assert summary.processed + summary.dropped == summary.frames_in == N_FRAMES
    assert summary.processed > c.answered
    assert len(records) == summary.processed
    ages = [r["frame"] - d["classifier"]["frame"] for r in records for d in r["detections"] if d["classifier"]]
    assert ages and max(ages) == c.label_age_max and min(ages) >= 0


def test_full_frame_and_mask_classifier_works_per_track(
    detector: Runner, moving: tuple[Path, list[list[MovingObject]]], tmp_path: Path
) -> None:
    # ObjectiX's ROI mode: the whole frame plus the box mask, not a crop. The cascade only hands boxes over.
    torch.manual_seed(0)
    model = create_model("objectix-resnet50", categories=SHAPES, layers=(1, 1, 1, 1), max_side=160, imgsz=128)
    assert model.spec.roi_mode == RoiMode.FULL_IMAGE
    path = save_checkpoint(tmp_path / "objectix.pt", model)
    video, _ = moving
    frames = decode_all(video)
    with open_runner(path) as objectix:
        cascade = Cascade(detector, objectix, dataclasses.replace(TRACKED, top_k=50))
        summary = Pipeline(VideoFileSource(video), cascade, [JsonlSink(tmp_path / "o.jsonl")], LoopConfig(8)).run()
        records = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
        checked = 0
        for record in records:
            fresh = [d for d in record["detections"] if d["classifier"] and d["classifier"]["frame"] == record["frame"]]
            fresh = [d for d in fresh if d["classifier"]["votes"] == 1]  # first answer: the label is that answer
            if not fresh:
                continue
            feeds = preprocess_rois(frames[record["frame"]], [d["box"] for d in fresh], objectix.spec)
            assert feeds["images"].shape[2:] == feeds["roi_mask"].shape[2:] == (120, 160)  # the full frame
            logits = np.asarray(objectix.infer(feeds)["logits"])
            for det, row in zip(fresh, logits, strict=True):
                assert det["classifier"]["class_index"] == int(row.argmax())
                checked += 1
    assert checked >= 3 and summary.classifier is not None and summary.classifier.rois >= checked


def test_whole_image_classifier_gets_the_crop_alone(
    detector: Runner, moving: tuple[Path, list[list[MovingObject]]], tmp_path: Path
) -> None:
    # A `classify` model (resnet50-cls, e.g. the 4-class seed) in the cascade: it gets each box's crop.
    torch.manual_seed(0)
    model = create_model("resnet50-cls", categories=SHAPES, layers=(1, 1, 1, 1), base_width=8, imgsz=48)
    path = save_checkpoint(tmp_path / "cls.pt", model)
    video, _ = moving
    frames = decode_all(video)
    with open_runner(path) as classifier:
        cascade = Cascade(detector, classifier, dataclasses.replace(TRACKED, top_k=50))
        Pipeline(VideoFileSource(video), cascade, [JsonlSink(tmp_path / "c.jsonl")], LoopConfig(8)).run()
        records = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()]
        checked = 0
        for record in records:
            fresh = [d for d in record["detections"] if d["classifier"] and d["classifier"]["frame"] == record["frame"]]
            fresh = [d for d in fresh if d["classifier"]["votes"] == 1]
            if not fresh:
                continue
            feeds = preprocess_rois(frames[record["frame"]], [d["box"] for d in fresh], classifier.spec)
            assert set(feeds) == {"images"} and feeds["images"].shape[2:] == (48, 48)
            logits = np.asarray(classifier.infer(feeds)["logits"])
            for det, row in zip(fresh, logits, strict=True):
                assert det["classifier"]["class_index"] == int(row.argmax())
                checked += 1
    assert checked >= 3


@pytest.mark.parametrize("buffer", [0, 3])
def test_a_track_that_leaves_is_closed_after_the_buffer_and_a_low_score_box_keeps_it(buffer: int) -> None:
    tracker = Tracker(TrackConfig(floor=0.05, buffer=buffer), conf=0.3)
    stay = [10.0, 10.0, 40.0, 40.0, 0.9, 0.0]
    ids_seen, closed_at = [], {}
    for f in range(12):
        leaving = [100.0 + 2 * f, 50.0, 130.0 + 2 * f, 80.0, 0.1 if f == 3 else 0.8, 1.0]  # one low-score frame
        rows = np.array([stay, leaving] if f < 6 else [stay], dtype=np.float32)
        ids, closed = tracker.update(rows)
        ids_seen.append(ids.tolist())
        for tid in closed:
            closed_at[tid] = f
    assert ids_seen[0] == [-1, -1] and all(ids == [0, 1] for ids in ids_seen[1:6])  # kept through the 0.1 box
    assert all(ids == [0] for ids in ids_seen[6:])
    assert closed_at == {1: 5 + buffer + 1}  # unmatched from frame 6: closed once the buffer is exceeded
    assert tracker.active == 1 and tracker.closed == 1


def test_overlay_shows_the_track_id(detector: Runner, moving: tuple[Path, list[list[MovingObject]]]) -> None:
    frames = decode_all(moving[0])
    cascade = Cascade(detector, None, TRACKED)
    cascade(frames[0])
    tracked = [d for d in cascade(frames[1]).detections if d.track_id is not None]
    assert tracked, "no track confirmed on the second frame"
    assert label_text(tracked[0]).startswith(f"#{tracked[0].track_id} {tracked[0].detection.name}")
    drawn = draw_overlay(frames[1], tracked, "FPS 1.0")
    assert not np.array_equal(drawn, frames[1])
