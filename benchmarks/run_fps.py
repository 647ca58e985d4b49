"""End-to-end FPS of the `objx-edge run` loop on this machine: detector only vs detector → ROI classifier.

Runs the real threaded Pipeline (capture/decode thread → inference thread → JSONL sink) headless over a
640×480 video and prints FPS, the per-stage split (mean / p50 / p95 ms) and the ratios from this one
invocation. Runners are opened once and warmed up; configurations run in interleaved rounds so that
background load hits all of them alike, and each one's median round is shown.

Artifacts: pass any .pt / .onnx / .engine paths, e.g. the CPU INT8 form written by
``objx-edge calibrate det.onnx --int8 ...`` (``det.int8cpu.onnx``). With ``--make DIR`` the script
builds them itself: seeded-random mobilenet-det @320 and resnet50-roi @224 exported to ONNX (FP32) and
calibrated to INT8 on coco-mini (8 images, minmax: the speed does not depend on the ranges).
Random weights give no confident boxes, so with ``--make`` the loop runs at ``--conf 0``: every frame
then sends exactly ``--top-k`` ROIs to the classifier, the cascade's worst case for that K.

    python benchmarks/run_fps.py --make /tmp/run_fps                      # build FP32 + INT8, time all
    python benchmarks/run_fps.py --detector det.int8cpu.onnx --classifier roi.int8cpu.onnx [--video in.mp4]
    python benchmarks/run_fps.py --detector det.pt --detector det.fp16.engine --device cuda   # on a GPU

With ``--device cuda``, each detector that runs on the GPU through torch or TensorRT is timed twice alone:
normalizing on the GPU (uint8 upload, the default there) and on the host (float32 upload), so the
gain of device preprocessing is a ratio from the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path

import cv2

from objectix_edge.data.synth import synth_coco_dict
from objectix_edge.pipeline.cascade import Cascade, CascadeConfig
from objectix_edge.pipeline.device_preprocess import on_cuda
from objectix_edge.pipeline.loop import LoopConfig, Pipeline
from objectix_edge.pipeline.sinks import JsonlSink, VideoSink
from objectix_edge.pipeline.sources import VideoFileSource
from objectix_edge.pipeline.stats import RunSummary
from objectix_edge.runtime.open import open_runner

REPO = Path(__file__).resolve().parents[1]
COCO = REPO.parent / "shared" / "data" / "coco-mini"
STAGES = ("capture", "preprocess", "detector", "postprocess", "roi_crop", "classifier", "render", "sinks", "latency")
WARMUP_FRAMES = 5


def make_video(path: Path, frames: int, size: tuple[int, int] = (480, 640)) -> Path:
    """``frames`` frames of synthetic shapes at 640×480, MJPG (what USB cameras deliver), 30 FPS."""
    _, images = synth_coco_dict(min(frames, 30), seed=5, image_size=size)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (size[1], size[0]))
    for i in range(frames):
        writer.write(images[i % len(images)])
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


def run_once(video: Path, cascade: Cascade, args: argparse.Namespace, workdir: Path) -> RunSummary:
    sinks = [JsonlSink(workdir / "run.jsonl")]
    if args.save:
        sinks.append(VideoSink(workdir / "run.mp4", 30.0))
    return Pipeline(VideoFileSource(video), cascade, sinks, LoopConfig(max_frames=args.frames)).run()


def configurations(detectors: list[Path], classifiers: list[Path]) -> list[tuple[Path, Path | None]]:
    """Each detector alone, then with its classifier: paired by position when the counts match, else all pairs."""
    pairs = (
        list(zip(detectors, classifiers, strict=True))
        if len(detectors) == len(classifiers)
        else [(d, c) for d in detectors for c in classifiers]
    )
    out: list[tuple[Path, Path | None]] = []
    for det in detectors:
        out.append((det, None))
        out.extend((d, c) for d, c in pairs if d == det)
    return out


def print_summary(label: str, s: RunSummary) -> None:
    compute = sum(
        s.stages[k].mean_ms
        for k in ("preprocess", "detector", "postprocess", "roi_crop", "classifier")
        if k in s.stages
    )
    print(
        f"\n{label}: {s.fps:.1f} FPS end to end ({s.processed} frames in {s.elapsed_s:.1f} s); "
        f"inference-thread work {compute:.1f} ms/frame → {1000 / compute:.1f} FPS if nothing else ran"
    )
    print(f"  {'stage':<12}{'mean ms':>9}{'p50 ms':>9}{'p95 ms':>9}")
    for name in STAGES:
        if name in s.stages:
            st = s.stages[name]
            print(f"  {name:<12}{st.mean_ms:>9.2f}{st.p50_ms:>9.2f}{st.p95_ms:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", type=Path, action="append", default=[], help="detector artifact (repeatable)")
    parser.add_argument(
        "--classifier", type=Path, action="append", default=[], help="ROI classifier artifact (repeatable)"
    )
    parser.add_argument(
        "--make", type=Path, help="build FP32 + INT8 ONNX of both models into this folder and time them"
    )
    parser.add_argument("--video", type=Path, help="640x480 video to run on (default: a synthetic MJPG video)")
    parser.add_argument("--frames", type=int, default=100, help="frames per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per configuration")
    parser.add_argument("--conf", type=float, default=None, help="detector threshold (default 0.3; 0 with --make)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads (default: all cores)")
    parser.add_argument("--save", action="store_true", help="also write the annotated video (adds render + encode)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] for .pt/.engine (and ORT's CUDA provider)")
    args = parser.parse_args()
    detectors, classifiers = list(args.detector), list(args.classifier)
    if args.make:
        made_det, made_cls = make_artifacts(args.make)
        detectors, classifiers = detectors + made_det, classifiers + made_cls
    if not detectors:
        parser.error("give --detector PATH (repeatable) or --make DIR")
    if args.conf is None:
        args.conf = 0.0 if args.make else 0.3

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        video = args.video or make_video(workdir / "bench_640x480.avi", args.frames)
        _, frame = cv2.VideoCapture(str(video)).read()
        runners = {
            p: stack.enter_context(open_runner(p, device=args.device, threads=args.threads))
            for p in {*detectors, *classifiers}
        }
        cascades: dict[str, Cascade] = {}
        for det, cls in configurations(detectors, classifiers):
            label = f"{det.name} only" if cls is None else f"{det.name} → {cls.name} (top-{args.top_k})"
            cascades[label] = Cascade(runners[det], runners[cls] if cls else None, CascadeConfig(args.conf, args.top_k))
            if cls is None and on_cuda(runners[det]):
                host = CascadeConfig(args.conf, args.top_k, device_preprocess=False)
                cascades[f"{label} [host preprocess]"] = Cascade(runners[det], None, host)
        for cascade in cascades.values():
            for _ in range(WARMUP_FRAMES):
                cascade(frame)
        print(
            f"video {video.name}: {args.frames} frames per run, {args.rounds} interleaved rounds (median shown), "
            f"conf {args.conf}, top-k {args.top_k}, ORT threads {args.threads or 'default'}, device {args.device}"
        )
        # Interleave rounds so background load hits every configuration alike; keep each one's median round.
        runs: dict[str, list[RunSummary]] = {label: [] for label in cascades}
        for _ in range(args.rounds):
            for label, cascade in cascades.items():
                runs[label].append(run_once(video, cascade, args, workdir))
    # Other processes on the machine slow every stage: say how busy it was (1-minute load / cores).
    print(f"load average over the last minute: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    results = {label: sorted(rs, key=lambda r: r.fps)[len(rs) // 2] for label, rs in runs.items()}
    for label, summary in results.items():
        print_summary(label, summary)
    base = next(iter(results.values())).fps
    print("\nFPS, median round (ratio to the first row):")
    for label, summary in results.items():
        print(f"  {label:<60}{summary.fps:>7.1f}  x{summary.fps / base:.2f}")


if __name__ == "__main__":
    main()
