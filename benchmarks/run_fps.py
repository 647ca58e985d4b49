"""End-to-end FPS of the `objx-edge run` loop: detector only, every box classified, tracked, asynchronous.

Runs the real threaded Pipeline (capture/decode thread → inference thread [→ classifier worker] → JSONL
sink) headless and prints FPS, the per-stage split and the ratios from this one invocation, on two
videos: a generated 640×480 MJPG video of persistent moving shapes and ``vtest.avi`` (pedestrians, 768×576, from Debian's
opencv-doc, fetched when absent: see ``vtest.py``). Per detector/classifier pair:

- files (every frame, deterministic): detector only; every box of every frame (no tracking, top-K);
  tracked with ``--reclassify-every N`` (classifier in the inference thread);
- ``--realtime`` (the file read as a camera at ``--realtime-fps``, 30 by default: faster than the
  every-box cascade runs, newest frame wins; looped for ``--realtime-seconds``): detector only; tracked
  with the classifier on its own worker. The goal ratio is frames the cascade processes / frames the
  detector alone processes, and the label age p95 against 2 × N.

Runners are opened once and warmed up; file configurations run in interleaved rounds (median round
shown), so background load hits all of them alike. With ``--make DIR`` the script builds seeded
random-weight mobilenet-det @320 and resnet50-roi @224, FP32 and INT8 (CPU form, calibrated on 8
coco-mini images). Random weights give no meaningful scores, so ``--conf`` defaults to the median
K-th best score of the first frames (about K boxes shown per frame) and the tracker floor to half of it.

    python benchmarks/run_fps.py --make /tmp/run_fps --int8-only --threads 1,1
    python benchmarks/run_fps.py --detector det.int8cpu.onnx --classifier roi.int8cpu.onnx [--video in.mp4]
    python benchmarks/run_fps.py --detector det.pt --device cuda   # detectors alone, on a GPU

Detectors given without classifiers are timed alone; with ``--device cuda`` each one that runs on the
GPU through torch or TensorRT is timed twice: normalizing on the GPU (uint8 upload, the default there)
and on the host (float32 upload), so the gain of device preprocessing is a ratio from the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import tempfile
import threading
from pathlib import Path

import cv2
import numpy as np
from vtest import fetch_vtest

from objectix_edge.cascade.device_preprocess import on_cuda
from objectix_edge.cascade.frame_cascade import Cascade, CascadeConfig
from objectix_edge.cascade.track_labels import ReclassifyPolicy
from objectix_edge.cascade.tracking import TrackConfig
from objectix_edge.data.moving_shapes import NAMES, moving_shapes
from objectix_edge.enums import SecondStageMode
from objectix_edge.modelio.postprocess import to_original
from objectix_edge.modelio.preprocess import preprocess_detector_batch
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.open import open_runner
from objectix_edge.stream.frame_loop import LoopConfig, Pipeline
from objectix_edge.stream.run_stats import RunSummary
from objectix_edge.stream.sinks import JsonlSink
from objectix_edge.stream.sources import VideoFileSource

REPO = Path(__file__).resolve().parents[1]
COCO = REPO.parent / "shared" / "data" / "coco-mini"
STAGES = ("capture", "preprocess", "detector", "postprocess", "track", "roi_crop", "classifier", "sinks", "latency")
WARMUP_FRAMES = 5


SHAPES_VIDEO = "moving_shapes_640x480.avi"
SHAPES_SIZE, SHAPES_SEED = (480, 640), 5


def make_video(path: Path, frames: int, size: tuple[int, int] = SHAPES_SIZE) -> Path:
    """``frames`` frames of persistent moving shapes (``data/moving_shapes.py``) at 640×480, MJPG, 30 FPS."""
    images, _ = moving_shapes(frames, size, seed=SHAPES_SEED)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (size[1], size[0]))
    for image in images:
        writer.write(image)
    writer.release()
    return path


def make_artifacts(out: Path) -> tuple[list[Path], list[Path]]:
    """FP32 and INT8 (CPU form) ONNX files of the default-size detector and ROI classifier."""
    import torch

    from objectix_edge.calib.int8 import Int8Config, run_int8
    from objectix_edge.enums import CalibMethod
    from objectix_edge.export.onnx import export_onnx
    from objectix_edge.models import create_model

    out.mkdir(parents=True, exist_ok=True)
    made: list[list[Path]] = []
    for name, kwargs in (("mobilenet-det", {"imgsz": 320}), ("resnet50-roi", {"imgsz": 224})):
        fp32 = out / f"{name}.onnx"
        if not fp32.exists():
            torch.manual_seed(0)
            export_onnx(create_model(name, **kwargs).eval(), fp32)
        int8cpu = out / f"{name}.int8cpu.onnx"
        if not int8cpu.exists():
            config = Int8Config(
                data=COCO / "images",
                ann=COCO / "annotations" / "instances_train2017.json",
                num_images=8,
                method=CalibMethod.MINMAX,
            )
            int8cpu = run_int8(fp32, config).files["int8cpu"]
        made.append([fp32, int8cpu])
    return made[0], made[1]


def id_report(jsonl: Path, frames: int) -> str:
    """Tracking on the moving-shapes video: per known object, frames its class's box was found (IoU >= 0.5)
    and the distinct track ids it was shown with."""
    _, truth = moving_shapes(frames, SHAPES_SIZE, seed=SHAPES_SEED)
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    parts = []
    for index, name in enumerate(NAMES):
        ids, found = set(), 0
        for record, objects in zip(records, truth, strict=False):
            obj = objects[index]
            hits = [d for d in record["detections"] if d["category_id"] == obj.category_id]
            best = max(hits, key=lambda d: _iou(d["box"], obj.box), default=None)
            if best is not None and _iou(best["box"], obj.box) >= 0.5:
                found += 1
                if best["track_id"] is not None:
                    ids.add(best["track_id"])
        parts.append(f"{name}: found {found}/{len(records)}, {len(ids)} id(s)")
    return "  tracking (tracked run): " + "; ".join(parts)


def _iou(a: list[float] | tuple[float, ...], b: list[float] | tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union > 0 else 0.0


def kth_score(detector: Runner, video: Path, k: int, frames: int = 10) -> float:
    """Median over the first ``frames`` frames of the ``k``-th best detector score."""
    cap = cv2.VideoCapture(str(video))
    scores = []
    for _ in range(frames):
        ok, image = cap.read()
        if not ok:
            break
        batch, boxes = preprocess_detector_batch([image], detector.spec)
        raw = np.asarray(detector.infer({detector.spec.input_names[0]: batch})[detector.spec.output_names[0]])
        rows = to_original(raw[0], boxes[0], 0.0)
        top = np.sort(rows[:, 4])[::-1]
        scores.append(float(top[min(k, len(top)) - 1]) if len(top) else 0.0)
    cap.release()
    return float(np.median(scores)) - 1e-6  # boxes strictly above it are shown


@dataclasses.dataclass
class Config:
    label: str
    realtime: bool
    classified: bool
    cascade: CascadeConfig


def configurations(conf: float, floor: float, top_k: int, every: int) -> list[Config]:
    track = TrackConfig(floor=floor)
    tracked = CascadeConfig(conf, top_k, track=track, reclassify=ReclassifyPolicy(every=every))
    return [
        Config("detector only", False, False, CascadeConfig(conf, top_k)),
        Config(f"every box, top-{top_k}", False, True, CascadeConfig(conf, top_k)),
        Config(f"tracked, every {every}", False, True, tracked),
        Config("realtime: detector only", True, False, CascadeConfig(conf, top_k)),
        Config(f"realtime: tracked async, every {every}", True, True, tracked),
    ]


def run_once(
    video: Path, cascade: Cascade, realtime: float | None, args: argparse.Namespace, workdir: Path
) -> RunSummary:
    """A file run of ``args.frames`` frames, or with ``realtime`` = pace (FPS) the video read as a camera,
    looped, for ``args.realtime_seconds`` of wall time."""
    if realtime is None:
        source = VideoFileSource(video)
        return Pipeline(
            source, cascade, [JsonlSink(workdir / "run.jsonl", overwrite=True)], LoopConfig(max_frames=args.frames)
        ).run()
    source = VideoFileSource(video, realtime=True, loop=True, pace_fps=realtime)
    pipeline = Pipeline(source, cascade, [JsonlSink(workdir / "run.jsonl", overwrite=True)])
    timer = threading.Timer(args.realtime_seconds, pipeline.request_stop, args=("time",))
    timer.start()
    try:
        return pipeline.run()
    finally:
        timer.cancel()


def print_row(label: str, s: RunSummary, every_box: float | None) -> None:
    c = s.classifier
    rois = f"{c.rois / max(1, s.processed):.2f}" if c else "—"
    age = f"{c.label_age_p50:.0f} / {c.label_age_p95:.0f}" if c and c.labels_shown else "—"
    drops = f"{c.dropped_requests}/{c.requests}" if c and c.mode == SecondStageMode.ASYNC else "—"
    ratio = f"x{s.fps / every_box:.2f}" if every_box else ""
    print(
        f"  {label:<36}{s.fps:>7.1f}{s.processed:>6}/{s.frames_in:<6}{rois:>9}{age:>10}{drops:>10}  {ratio}",
        flush=True,
    )


def print_stages(label: str, s: RunSummary) -> None:
    parts = " ".join(f"{k} {s.stages[k].mean_ms:.1f}" for k in STAGES if k in s.stages)
    lat = ""
    if s.classifier and s.classifier.mode == SecondStageMode.ASYNC:
        lat = f" | classifier latency p50 {s.classifier.latency_ms_p50:.0f} ms p95 {s.classifier.latency_ms_p95:.0f} ms"
    print(f"    {label}: mean ms {parts}{lat}")


def bench_video(name: str, video: Path, det: Runner, cls: Runner, args: argparse.Namespace, workdir: Path) -> None:
    conf = args.conf if args.conf is not None else kth_score(det, video, args.top_k)
    floor = min(conf, args.floor) if args.floor is not None else conf / 2
    configs = configurations(conf, floor, args.top_k, args.every)
    _, frame = cv2.VideoCapture(str(video)).read()
    runs: dict[str, list[RunSummary]] = {c.label: [] for c in configs}
    for c in configs:  # warm up every runner/config pair once
        cascade = Cascade(det, cls if c.classified else None, c.cascade)
        for _ in range(WARMUP_FRAMES):
            cascade(frame)
    pace = args.realtime_fps
    notes: list[str] = []
    for _ in range(args.rounds):
        for c in (c for c in configs if not c.realtime):
            cascade = Cascade(det, cls if c.classified else None, c.cascade)  # fresh tracks every run
            runs[c.label].append(run_once(video, cascade, None, args, workdir))
            if c is configs[2] and video.name == SHAPES_VIDEO:
                notes.append(id_report(workdir / "run.jsonl", args.frames))
        if not pace:  # faster than even the detector alone: 1.5x its rate on the file
            pace = 1.5 * runs[configs[0].label][0].fps
        for c in (c for c in configs if c.realtime):
            cascade = Cascade(det, cls if c.classified else None, c.cascade)
            runs[c.label].append(run_once(video, cascade, pace, args, workdir))
    print(
        f"\n== {name}: {frame.shape[1]}x{frame.shape[0]}, {det.path.name} → {cls.path.name}, conf {conf:.4f}, "
        f"tracker floor {floor:.4f}; files: {args.frames} frames per run; realtime: {args.realtime_seconds:.0f} s "
        f"at {pace:.0f} FPS (looped); {args.rounds} round(s), median shown",
        flush=True,
    )
    results = {label: sorted(rs, key=lambda r: r.fps)[len(rs) // 2] for label, rs in runs.items()}
    every_box = results[configs[1].label].fps
    print(
        f"  {'configuration':<36}{'FPS':>7}{'proc/in':>13}{'ROIs/fr':>9}{'age p50/95':>10}{'drops':>10}  vs every box"
    )
    for c in configs:
        print_row(c.label, results[c.label], every_box if c.classified else None)
    for c in configs:
        print_stages(c.label, results[c.label])
    for note in notes[:1]:
        print(note)
    tracked, rt_det, rt_cas = (results[c.label] for c in (configs[2], configs[3], configs[4]))
    age95 = rt_cas.classifier.label_age_p95 if rt_cas.classifier else float("nan")
    print(
        f"  goals: tracked every {args.every} / every box = {tracked.fps / every_box:.2f}x (goal >= 4); "
        f"realtime cascade / detector-only frames processed = {rt_cas.processed / max(1, rt_det.processed):.2f} "
        f"(goal >= 0.8); label age p95 {age95:.0f} frames vs 2 x N = {2 * args.every} "
        f"(realtime input: {rt_det.frames_in} frames at {pace:.0f} FPS)",
        flush=True,
    )


def detectors_alone(detectors: list[Runner], video: Path, args: argparse.Namespace, workdir: Path) -> None:
    """Each detector alone (and with host preprocessing when it runs on CUDA), interleaved rounds."""
    conf = args.conf if args.conf is not None else 0.3
    cascades: dict[str, Cascade] = {}
    for det in detectors:
        cascades[f"{det.path.name} only"] = Cascade(det, None, CascadeConfig(conf, args.top_k))
        if on_cuda(det):
            host = CascadeConfig(conf, args.top_k, device_preprocess=False)
            cascades[f"{det.path.name} only [host preprocess]"] = Cascade(det, None, host)
    _, frame = cv2.VideoCapture(str(video)).read()
    for cascade in cascades.values():
        for _ in range(WARMUP_FRAMES):
            cascade(frame)
    runs: dict[str, list[RunSummary]] = {label: [] for label in cascades}
    for _ in range(args.rounds):
        for label, cascade in cascades.items():
            runs[label].append(run_once(video, cascade, None, args, workdir))
    results = {label: sorted(rs, key=lambda r: r.fps)[len(rs) // 2] for label, rs in runs.items()}
    base = next(iter(results.values())).fps
    print(f"{video.name}: {args.frames} frames per run, {args.rounds} rounds (median), device {args.device}")
    for label, summary in results.items():
        print(f"  {label:<60}{summary.fps:>7.1f}  x{summary.fps / base:.2f}")
        print_stages(label, summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", type=Path, action="append", default=[], help="detector artifact (repeatable)")
    parser.add_argument("--classifier", type=Path, action="append", default=[], help="classifier (paired by position)")
    parser.add_argument("--make", type=Path, help="build FP32 + INT8 ONNX of both models into this folder")
    parser.add_argument("--int8-only", action="store_true", help="with --make: time only the INT8 pair")
    parser.add_argument("--video", type=Path, help="a video to run on instead of the synthetic 640x480 one")
    parser.add_argument("--vtest", type=Path, help="a local vtest.avi (default: fetched and cached)")
    parser.add_argument("--frames", type=int, default=150, help="frames per file run (and length of realtime runs)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds per configuration")
    parser.add_argument("--conf", type=float, default=None, help="detector threshold (default: K-th best score)")
    parser.add_argument("--floor", type=float, default=None, help="tracker floor (default: conf / 2)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--every", type=int, default=10, help="--reclassify-every N of the tracked configurations")
    parser.add_argument(
        "--realtime-fps",
        type=float,
        default=30.0,
        help="pace of the realtime runs: a camera's rate (0: 1.5x detector alone)",
    )
    parser.add_argument("--realtime-seconds", type=float, default=20.0, help="wall time of each realtime run")
    parser.add_argument(
        "--videos", choices=("both", "shapes", "vtest"), default=None, help="default: both (shapes for detectors alone)"
    )
    parser.add_argument("--threads", default=None, help="ONNX Runtime intra-op threads: DET or DET,CLS")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    args = parser.parse_args()
    detectors, classifiers = list(args.detector), list(args.classifier)
    if args.make:
        made_det, made_cls = make_artifacts(args.make)
        if args.int8_only:
            made_det, made_cls = made_det[1:], made_cls[1:]
        detectors, classifiers = detectors + made_det, classifiers + made_cls
    if not detectors or (classifiers and len(detectors) != len(classifiers)):
        parser.error("give --detector (and --classifier in pairs), or --make DIR")
    det_threads, cls_threads = (int(t) for t in (args.threads or "0,0").split(",")) if args.threads else (None, None)
    if args.threads and "," not in args.threads:
        cls_threads = det_threads

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        which = args.videos or ("both" if classifiers else "shapes")
        videos: dict[str, Path] = {}
        if which in ("both", "shapes"):
            videos["moving shapes 640x480"] = args.video or make_video(workdir / SHAPES_VIDEO, args.frames)
        if which in ("both", "vtest"):
            videos["vtest.avi"] = fetch_vtest(args.vtest)
        if not classifiers:
            runners = [stack.enter_context(open_runner(p, device=args.device, threads=det_threads)) for p in detectors]
            for video in videos.values():
                detectors_alone(runners, video, args, workdir)
        for det_path, cls_path in zip(detectors, classifiers, strict=False):
            det = stack.enter_context(open_runner(det_path, device=args.device, threads=det_threads))
            cls = stack.enter_context(open_runner(cls_path, device=args.device, threads=cls_threads))
            for name, video in videos.items():
                bench_video(name, video, det, cls, args, workdir)
    print(f"\nload average over the last minute: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
