"""Soak: the tracked, asynchronous cascade over a looped real video for N frames; memory, files, records.

Runs the real Pipeline on ``vtest.avi`` (fetched when absent, see ``vtest.py``) read as a camera
(``--realtime`` pacing at ``--fps``, looped) with the classifier on its own worker, writing JSONL and
the annotated video in closed segments, until ``--frames`` frames are processed. Every ``--every``
processed frames it samples this process's resident memory (VmRSS) and open file descriptors. Prints
RSS growth after warm-up (first sample at or after ``--warmup`` frames → last sample), the fd range
after warm-up, and checks that the JSONL holds exactly one parseable record per processed frame.

    python benchmarks/run_soak.py --detector det.int8cpu.onnx --classifier roi.int8cpu.onnx --frames 10000 --threads 1,1
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from vtest import fetch_vtest

from objectix_edge.cascade.frame_cascade import Cascade, CascadeConfig
from objectix_edge.cascade.track_labels import ReclassifyPolicy
from objectix_edge.cascade.tracking import TrackConfig
from objectix_edge.runtime.open import open_runner
from objectix_edge.stream.frame_loop import LoopConfig, Pipeline
from objectix_edge.stream.media_sinks import VideoSink
from objectix_edge.stream.sinks import JsonlSink, Sink
from objectix_edge.stream.sources import Frame, VideoFileSource


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class ProbeSink(Sink):
    """Samples (processed frames, RSS MB, open fds, seconds) every ``every`` frames."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.frames = 0
        self.samples: list[tuple[int, float, int, float]] = []
        self._t0 = time.perf_counter()

    def write(self, frame: Frame, result: object, overlay: np.ndarray | None) -> bool:  # type: ignore[override]
        self.frames += 1
        if self.frames % self.every == 0:
            self.samples.append((self.frames, rss_mb(), open_fds(), time.perf_counter() - self._t0))
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", type=Path, required=True)
    parser.add_argument("--classifier", type=Path, required=True)
    parser.add_argument("--vtest", type=Path, help="a local vtest.avi (default: fetched and cached)")
    parser.add_argument("--frames", type=int, default=10_000, help="processed frames")
    parser.add_argument("--fps", type=float, default=60.0, help="pace of the looped video (a camera's rate)")
    parser.add_argument("--conf", type=float, default=0.01)
    parser.add_argument("--every-n", type=int, default=10, help="--reclassify-every")
    parser.add_argument("--every", type=int, default=250, help="sample memory and fds every this many frames")
    parser.add_argument("--warmup", type=int, default=1000, help="frames before the baseline sample")
    parser.add_argument("--segment-seconds", type=float, default=60.0)
    parser.add_argument("--threads", default="1,1", help="DET,CLS intra-op threads")
    args = parser.parse_args()
    det_threads, cls_threads = (int(t) for t in args.threads.split(","))
    video = fetch_vtest(args.vtest)
    config = CascadeConfig(
        args.conf, 5, track=TrackConfig(floor=args.conf / 2), reclassify=ReclassifyPolicy(every=args.every_n)
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_runner(args.detector, threads=det_threads) as det,
        open_runner(args.classifier, threads=cls_threads) as cls,
    ):
        out = Path(tmp)
        probe = ProbeSink(args.every)
        video_sink = VideoSink(out / "soak.mp4", args.fps, segment_s=args.segment_seconds, overwrite=True)
        sinks = [JsonlSink(out / "soak.jsonl", overwrite=True), video_sink, probe]
        source = VideoFileSource(video, realtime=True, loop=True, pace_fps=args.fps)
        print(
            f"soak: {video.name} looped at {args.fps:.0f} FPS, {det.path.name} → {cls.path.name}, tracked, "
            f"reclassify every {args.every_n}, async classifier, {args.frames} processed frames",
            flush=True,
        )
        summary = Pipeline(source, Cascade(det, cls, config), sinks, LoopConfig(max_frames=args.frames)).run()
        lines = (out / "soak.jsonl").read_text().splitlines()
        frames = [json.loads(line)["frame"] for line in lines]
        segments = len(video_sink.segments)
    base = next(s for s in probe.samples if s[0] >= args.warmup)
    after = [s for s in probe.samples if s[0] >= base[0]]
    last = probe.samples[-1]
    c = summary.classifier
    print(f"  processed {summary.processed} of {summary.frames_in} delivered ({summary.dropped} replaced by newer)")
    print(f"  passes over the video: {source.passes + 1}; FPS {summary.fps:.1f} over {summary.elapsed_s:.0f} s")
    print(
        f"  JSONL records {len(lines)} (processed {summary.processed}); frames increasing: {frames == sorted(set(frames))}"
    )
    print(f"  closed video segments: {segments}")
    print(
        f"  RSS at {base[0]} frames {base[1]:.1f} MB → at {last[0]} frames {last[1]:.1f} MB: "
        f"growth {last[1] - base[1]:+.1f} MB (max {max(s[1] for s in after):.1f} MB)"
    )
    print(f"  open fds after warm-up: min {min(s[2] for s in after)}, max {max(s[2] for s in after)}")
    if c is not None:
        print(
            f"  classifier: {c.requests} requests, {c.answered} answered, {c.dropped_requests} dropped, "
            f"label age p50 {c.label_age_p50:.0f} p95 {c.label_age_p95:.0f} frames; tracks closed {c.tracks_closed}"
        )
    print(f"  load average over the last minute: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
