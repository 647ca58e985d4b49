"""``objx-edge demo``: train, deploy and run on generated data, end to end, on a CPU in a few minutes."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from objectix_edge.cli.console import console_hooks, finish, say
from objectix_edge.defaults import default_of
from objectix_edge.deploy.demo_config import DemoConfig


def demo(
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Folder for everything the demo writes (default: ~/.cache/objectix-edge/demo)."
    ),
    threads: int = typer.Option(
        default_of(DemoConfig, "threads"),
        "--threads",
        help="Intra-op threads for ONNX Runtime and torch (1 suits these tiny models).",
    ),
    frames: int = typer.Option(
        default_of(DemoConfig, "video_frames"), "--frames", help="Frames in the generated video."
    ),
    det_epochs: int = typer.Option(
        default_of(DemoConfig, "det_epochs"), "--det-epochs", help="Detector training epochs."
    ),
    cls_epochs: int = typer.Option(
        default_of(DemoConfig, "cls_epochs"), "--cls-epochs", help="ROI classifier training epochs."
    ),
    val_images: int = typer.Option(
        default_of(DemoConfig, "val_images"),
        "--val-images",
        help="Held-out synthetic images: 32 calibrate, the rest decide the parity verdicts.",
    ),
) -> None:
    """Synthetic shapes → train a detector + ROI classifier → deploy with a report → a headless run on a video.

    Example: objx-edge demo --out /tmp/objx-demo
    """
    from objectix_edge.deploy.demo import DemoHooks, calib_images_for, default_demo_dir, run_demo

    folder = out if out is not None else default_demo_dir()
    say(f"demo folder: {folder}")
    start = time.perf_counter()

    def stage(message: str) -> None:
        say(f"[{time.perf_counter() - start:5.0f} s] {message}", style="bold")

    config = DemoConfig(
        out=folder,
        threads=threads,
        video_frames=frames,
        det_epochs=det_epochs,
        cls_epochs=cls_epochs,
        val_images=val_images,
        calib_images=calib_images_for(val_images),
    )
    result = run_demo(config, DemoHooks(stage=stage, deploy=console_hooks(), train_progress=True))
    run = result.run_summary
    say(f"run: {run['processed']} frames at {run['fps']:.1f} FPS (stopped by {run['stopped_by']})")
    for what, path in result.run_outputs.items():
        say(f"{what}: {path}")
    say(f"demo finished in {time.perf_counter() - start:.0f} s", style="bold green")
    finish(result.deploy)
