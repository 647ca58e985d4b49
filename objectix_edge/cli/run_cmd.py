"""``objx-edge run``: the detector → ROI classifier cascade on a camera, stream, video file or image folder."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from objectix_edge.cascade.frame_cascade import CascadeConfig
from objectix_edge.cascade.track_labels import ReclassifyPolicy
from objectix_edge.cascade.tracking import TrackConfig
from objectix_edge.cli.console import console, say
from objectix_edge.defaults import default_of
from objectix_edge.errors import InputError
from objectix_edge.serve.run_config import DEFAULT_RECLASSIFY_EVERY, RunConfig
from objectix_edge.serve.shadow import ShadowConfig
from objectix_edge.stream.frame_loop import LoopConfig, RunError
from objectix_edge.stream.health import MIN_DRIFT_FRAMES, HealthConfig
from objectix_edge.stream.run_stats import RunSummary, StopReason
from objectix_edge.stream.source_factory import make_source

EXIT_INTERRUPTED = 130  # the shell convention for a run ended by Ctrl-C


def notify(message: str) -> None:
    """Status lines from the loop's threads (reconnects, interruption) on stderr."""
    say(message, style="yellow", stderr=True)


def summary_table(summary: RunSummary) -> Table:
    """Count, mean/p50/p95/max milliseconds of every stage."""
    table = Table(title=f"objx-edge run: {summary.source}", show_lines=False)
    table.add_column("stage")
    for column in ("frames", "mean ms", "p50 ms", "p95 ms", "max ms"):
        table.add_column(column, justify="right")
    for name, s in summary.stages.items():
        table.add_row(name, str(s.count), f"{s.mean_ms:.2f}", f"{s.p50_ms:.2f}", f"{s.p95_ms:.2f}", f"{s.max_ms:.2f}")
    return table


def summary_line(summary: RunSummary) -> str:
    return (
        f"frames in {summary.frames_in} · processed {summary.processed} · dropped {summary.dropped} · "
        f"skipped (undecodable) {summary.skipped} · {summary.fps:.1f} FPS over {summary.elapsed_s:.1f} s · "
        f"stopped by {summary.stopped_by.value}"
    )


def classifier_line(summary: RunSummary) -> str | None:
    """The second stage: requests, drops, latency and label age (None without a classifier)."""
    c = summary.classifier
    if c is None:
        return None
    return (
        f"classifier ({c.mode.value}): {c.requests} requests · answered {c.answered} ({c.rois} ROIs) · "
        f"queue drops {c.dropped_requests} ({c.dropped_rois} ROIs) · unfinished {c.unfinished} · "
        f"latency p50 {c.latency_ms_p50:.1f} ms p95 {c.latency_ms_p95:.1f} ms · "
        f"label age p50 {c.label_age_p50:.0f} p95 {c.label_age_p95:.0f} max {c.label_age_max} frames · "
        f"tracks closed {c.tracks_closed}"
    )


def parse_threads(text: str | None) -> tuple[int | None, int | None]:
    """``--threads DET[,CLS]`` → (detector threads, classifier threads); one number sets both."""
    if text is None:
        return None, None
    parts = text.split(",")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 1:
        raise InputError(f"--threads {text}: give DET or DET,CLS as positive integers, e.g. --threads 1,1")
    return values[0], values[-1]


def run(
    camera: int | None = typer.Option(None, "--camera", help="Camera index (0 = first camera)."),
    video: Path | None = typer.Option(None, "--video", help="Video file: every frame, in order."),
    rtsp: str | None = typer.Option(
        None, "--rtsp", help="Stream URL (rtsp://, http://, ...); reconnects when it drops."
    ),
    images: Path | None = typer.Option(None, "--images", help="Folder of images: every image, in name order."),
    detector: Path = typer.Option(..., "--detector", help="Detector artifact: .pt checkpoint, .onnx file or .engine."),
    classifier: Path | None = typer.Option(
        None, "--classifier", help="ROI classifier artifact: classifies tracks when due, at most --top-k boxes a frame."
    ),
    show: bool = typer.Option(
        default_of(RunConfig, "show"),
        "--show/--headless",
        help="Open a window (q or Esc quits) or run without a display.",
    ),
    save: Path | None = typer.Option(
        None,
        "--save",
        help="Write the annotated frames to a video (.mp4, .avi, .mkv), or to a folder of images (a path without extension).",
    ),
    jsonl: Path | None = typer.Option(None, "--jsonl", help="Write one JSON record of detections per processed frame."),
    max_frames: int | None = typer.Option(
        default_of(LoopConfig, "max_frames"), "--max-frames", help="Stop after this many processed frames."
    ),
    conf: float = typer.Option(
        default_of(CascadeConfig, "conf"), "--conf", help="Score a box needs to be shown, classified and start a track."
    ),
    top_k: int = typer.Option(
        default_of(CascadeConfig, "top_k"),
        "--top-k",
        help="Most boxes per frame (best first) sent to the classifier in one batch.",
    ),
    track: bool | None = typer.Option(
        None,
        "--track/--no-track",
        help="Track objects across frames (ByteTrack) and classify per track (default: on, off for --images).",
    ),
    track_floor: float = typer.Option(
        default_of(TrackConfig, "floor"),
        "--track-floor",
        help="Lowest score the tracker sees (ByteTrack's low-score boxes); at most --conf.",
    ),
    track_buffer: int = typer.Option(
        default_of(TrackConfig, "buffer"), "--track-buffer", help="Frames a lost track is kept before it is closed."
    ),
    reclassify_every: int | None = typer.Option(
        None,
        "--reclassify-every",
        help=f"Classify a track again after this many frames (default {DEFAULT_RECLASSIFY_EVERY}; "
        "without tracking 1: every box of every frame).",
    ),
    area_growth: float = typer.Option(
        default_of(ReclassifyPolicy, "area_growth"),
        "--area-growth",
        help="Reclassify sooner when a track's box area grows by this factor (0: never).",
    ),
    realtime: bool = typer.Option(
        False, "--realtime", help="Read --video as a camera would: at its frame rate, newest frame wins."
    ),
    loop: bool = typer.Option(False, "--loop", help="Start --video again at its end (soak runs)."),
    segment_seconds: float | None = typer.Option(
        None,
        "--segment-seconds",
        help="Write --save video in closed segments (out_000.mp4, ...) of this many seconds; default 300 on live sources, 0: one file.",
    ),
    overwrite: bool = typer.Option(
        default_of(RunConfig, "overwrite"),
        "--overwrite",
        help="Replace a previous run's --jsonl file, --save video or image folder (else refused; segments continue).",
    ),
    shadow: Path | None = typer.Option(
        None, "--shadow", help="Original detector (.pt or any artifact) re-checking the deployed one on its own thread."
    ),
    shadow_every: int = typer.Option(
        default_of(ShadowConfig, "every"), "--shadow-every", help="Check every K-th processed frame with --shadow."
    ),
    frozen_seconds: float = typer.Option(
        default_of(HealthConfig, "frozen_s"),
        "--frozen-seconds",
        help="Warn when the picture has not changed for this many seconds.",
    ),
    device: str = typer.Option(default_of(RunConfig, "device"), "--device", help="cpu or cuda[:N]."),
    threads: str | None = typer.Option(
        None, "--threads", help="Intra-op threads: DET or DET,CLS (detector, classifier) for ONNX Runtime and torch."
    ),
) -> None:
    """Run the detector (+ ROI classifier) live: overlay, annotated video, JSONL, and a per-stage timing summary.

    Example: objx-edge run --video street.mp4 --detector det.int8cpu.onnx --classifier roi.onnx --headless --save out.mp4 --jsonl dets.jsonl
    """
    from objectix_edge.serve.session import run_pipeline, tracking_for

    det_threads, cls_threads = parse_threads(threads)
    source = make_source(camera, video, rtsp, images, realtime, loop, notify=notify)
    tracking = TrackConfig(floor=track_floor, buffer=track_buffer)
    track, reclassify_every = tracking_for(source, track, reclassify_every)
    config = RunConfig(
        detector=detector,
        classifier=classifier,
        show=show,
        save=save,
        jsonl=jsonl,
        cascade=CascadeConfig(
            conf=conf,
            top_k=top_k,
            track=tracking if track else None,
            reclassify=ReclassifyPolicy(every=reclassify_every, area_growth=area_growth),
        ),
        loop=LoopConfig(max_frames=max_frames),
        device=device,
        threads=det_threads,
        classifier_threads=cls_threads,
        segment_s=segment_seconds,
        overwrite=overwrite,
        shadow=shadow,
        shadow_every=shadow_every,
        frozen_s=frozen_seconds,
    )
    try:
        summary = run_pipeline(source, config, notify=notify)
    except RunError as exc:
        report(exc.summary)
        raise
    report(summary)
    if summary.stopped_by is StopReason.INTERRUPT:
        raise typer.Exit(EXIT_INTERRUPTED)


def report(summary: RunSummary) -> None:
    """The summary table, its warnings, and the files written."""
    console.print(summary_table(summary))
    say(summary_line(summary))
    line = classifier_line(summary)
    if line is not None:
        say(line)
    if summary.health is not None:
        h = summary.health
        drift = (
            f"drift not judged (needs the calibration cache of footage beside the detector and ≥ {MIN_DRIFT_FRAMES} frames)"
            if h.drift_psi_counts is None or h.drift_psi_scores is None
            else f"drift PSI counts {h.drift_psi_counts:.3f} scores {h.drift_psi_scores:.3f}"
            + (" (warned: > 0.25)" if h.drift_warned else "")
        )
        say(
            f"health: frame age p50 {h.frame_age_ms_p50:.1f} ms p95 {h.frame_age_ms_p95:.1f} ms · decode errors "
            f"{h.decode_errors} · reconnects {h.reconnects} · frozen episodes {h.frozen_episodes} (longest "
            f"{h.longest_frozen_s:.1f} s) · {drift}"
        )
    if summary.shadow is not None:
        sh = summary.shadow
        say(
            f"shadow {sh.shadow} every {sh.every} frames: {sh.submitted} submitted · checked {sh.checked} · "
            f"queue drops {sh.dropped} · unfinished {sh.unfinished} · latency p50 {sh.latency_ms_p50:.1f} ms "
            f"p95 {sh.latency_ms_p95:.1f} ms"
        )
        style = {"agrees": "green", "disagrees": "bold red"}.get(sh.verdict.state, "yellow")
        say(sh.verdict.describe(), style=style)
    for warning in summary.warnings:
        say(f"warning: {warning}", style="yellow")
    for path in summary.outputs:
        say(f"wrote {path}")
