"""``objx-edge run``: the detector → ROI classifier cascade on a camera, stream, video file or image folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from objectix_edge.cli.console import console, err_console
from objectix_edge.errors import InputError

if TYPE_CHECKING:
    from objectix_edge.pipeline.sources import FrameSource
    from objectix_edge.pipeline.stats import RunSummary

EXIT_INTERRUPTED = 130  # the shell convention for a run ended by Ctrl-C


def notify(message: str) -> None:
    """Status lines from the loop's threads (reconnects, interruption) on stderr."""
    err_console.print(message, style="yellow", markup=False, highlight=False, soft_wrap=True)


def make_source(camera: int | None, video: Path | None, rtsp: str | None, images: Path | None) -> FrameSource:
    """Exactly one of the four source options → its FrameSource (not opened yet)."""
    from objectix_edge.pipeline.live import CameraSource, StreamSource
    from objectix_edge.pipeline.sources import ImageFolderSource, VideoFileSource

    given = [
        name
        for name, value in (("--camera", camera), ("--video", video), ("--rtsp", rtsp), ("--images", images))
        if value is not None
    ]
    if len(given) != 1:
        raise InputError(
            f"give exactly one source: --camera INDEX, --video FILE, --rtsp URL or --images DIR (got {', '.join(given) or 'none'})"
        )
    if camera is not None:
        return CameraSource(camera, notify=notify)
    if rtsp is not None:
        return StreamSource(rtsp, notify=notify)
    if video is not None:
        return VideoFileSource(video)
    return ImageFolderSource(images)  # type: ignore[arg-type]


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
        f"stopped by {summary.stopped_by}"
    )


def run(
    camera: int | None = typer.Option(None, "--camera", help="Camera index (0 = first camera)."),
    video: Path | None = typer.Option(None, "--video", help="Video file: every frame, in order."),
    rtsp: str | None = typer.Option(
        None, "--rtsp", help="Stream URL (rtsp://, http://, ...); reconnects when it drops."
    ),
    images: Path | None = typer.Option(None, "--images", help="Folder of images: every image, in name order."),
    detector: Path = typer.Option(..., "--detector", help="Detector artifact: .pt checkpoint, .onnx file or .engine."),
    classifier: Path | None = typer.Option(
        None, "--classifier", help="ROI classifier artifact run on the top-K boxes of each frame."
    ),
    show: bool = typer.Option(
        False, "--show/--headless", help="Open a window (q or Esc quits) or run without a display."
    ),
    save: Path | None = typer.Option(
        None,
        "--save",
        help="Write the annotated frames to a video (.mp4, .avi, .mkv), or to a folder of images (a path without extension).",
    ),
    jsonl: Path | None = typer.Option(None, "--jsonl", help="Write one JSON record of detections per processed frame."),
    max_frames: int | None = typer.Option(None, "--max-frames", help="Stop after this many processed frames."),
    conf: float = typer.Option(0.3, "--conf", help="Detector score threshold."),
    top_k: int = typer.Option(5, "--top-k", help="Boxes per frame (best first) sent to the classifier in one batch."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda[:N]."),
    threads: int | None = typer.Option(None, "--threads", help="Intra-op threads for ONNX Runtime and torch."),
) -> None:
    """Run the detector (+ ROI classifier) live: overlay, annotated video, JSONL, and a per-stage timing summary.

    Example: objx-edge run --video street.mp4 --detector det.int8cpu.onnx --classifier roi.onnx --headless --save out.mp4 --jsonl dets.jsonl
    """
    from objectix_edge.pipeline.cascade import CascadeConfig
    from objectix_edge.pipeline.loop import LoopConfig, RunError
    from objectix_edge.pipeline.session import RunConfig, run_pipeline

    if images is not None and save is not None and save.resolve() == images.resolve():
        raise InputError(f"{save}: --save would overwrite the input images; save to another folder")
    config = RunConfig(
        detector=detector,
        classifier=classifier,
        show=show,
        save=save,
        jsonl=jsonl,
        cascade=CascadeConfig(conf=conf, top_k=top_k),
        loop=LoopConfig(max_frames=max_frames),
        device=device,
        threads=threads,
    )
    try:
        summary = run_pipeline(make_source(camera, video, rtsp, images), config, notify=notify)
    except RunError as exc:
        report(exc.summary, (jsonl, save))
        raise
    report(summary, (jsonl, save))
    if summary.stopped_by == "interrupt":
        raise typer.Exit(EXIT_INTERRUPTED)


def report(summary: RunSummary, outputs: tuple[Path | None, ...]) -> None:
    """The summary table, its warnings, and the files written."""
    console.print(summary_table(summary))
    console.print(summary_line(summary), markup=False, highlight=False, soft_wrap=True)
    for warning in summary.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False, highlight=False)
    for path in outputs:
        if path is not None and path.exists():
            console.print(f"wrote {path}", markup=False, highlight=False)
