"""``objx-edge deploy``: checkpoint → every deployable artifact, checked and timed, with a report."""

from __future__ import annotations

from pathlib import Path

import typer

from objectix_edge.bench.harness import parse_batches
from objectix_edge.cli.console import console_hooks, finish
from objectix_edge.cpu_isa import isa_option
from objectix_edge.defaults import default_of
from objectix_edge.deploy.deploy_config import DeployConfig


def deploy(
    checkpoint: Path = typer.Argument(..., help="The trained checkpoint (.pt from objx-edge train)."),
    data: Path | None = typer.Option(None, "--data", help="COCO image folder: calibration and held-out images."),
    ann: Path | None = typer.Option(None, "--ann", help="COCO instances JSON of --data."),
    video: Path | None = typer.Option(
        None, "--video", help="Your own footage instead (video or frame folder, no labels): agreement only."
    ),
    detector: Path | None = typer.Option(
        None, "--detector", help="With --video, for an ROI classifier: the detector whose boxes it classifies."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for the artifacts and report.md / report.json."),
    max_drop: float | None = typer.Option(
        default_of(DeployConfig, "max_drop"),
        "--max-drop",
        help="INT8 accuracy budget in points: keep sensitive layers FP32 to stay within it.",
    ),
    calib_images: int = typer.Option(
        default_of(DeployConfig, "calib_images"),
        "--calib-images",
        help="Images used for INT8 calibration (the rest are held out).",
    ),
    parity_images: int = typer.Option(
        default_of(DeployConfig, "parity_images"), "--parity-images", help="Held-out images used for parity."
    ),
    batch: str = typer.Option(
        ",".join(map(str, default_of(DeployConfig, "batches"))),
        "--batch",
        help="Batch sizes to benchmark, e.g. 1,4,16.",
    ),
    warmup: int = typer.Option(default_of(DeployConfig, "warmup"), "--warmup", help="Benchmark warm-up iterations."),
    iters: int = typer.Option(
        default_of(DeployConfig, "iters"), "--iters", help="Benchmark timed iterations per batch."
    ),
    device: str = typer.Option(
        default_of(DeployConfig, "device"), "--device", help="cpu or cuda (for parity and bench)."
    ),
    threads: int | None = typer.Option(
        default_of(DeployConfig, "threads"), "--threads", help="Intra-op threads for ONNX Runtime and torch."
    ),
    seed: int = typer.Option(
        default_of(DeployConfig, "seed"), "--seed", help="Seed of the calibration / held-out split."
    ),
    cpu_isa: str = typer.Option(
        "auto", "--cpu-isa", help="CPU the int8cpu file is for: auto (this machine), vnni, x86 or arm64."
    ),
) -> None:
    """Export, convert to FP16, calibrate INT8, build TensorRT engines (when present), check parity, benchmark, report.

    Example: objx-edge deploy runs/det/best.pt --data coco/images --ann coco/instances.json --out deploy/ --max-drop 1.0

    On your own footage (no labels): objx-edge deploy det.pt --video street.mp4 --out deploy/
    """
    from objectix_edge.deploy.runner import run_deploy

    config = DeployConfig(
        checkpoint=checkpoint,
        data=data,
        ann=ann,
        out=out,
        max_drop=max_drop,
        calib_images=calib_images,
        parity_images=parity_images,
        batches=parse_batches(batch),
        warmup=warmup,
        iters=iters,
        device=device,
        threads=threads,
        seed=seed,
        cpu_isa=isa_option(cpu_isa),
        video=video,
        detector=detector,
    )
    finish(run_deploy(config, console_hooks()))
