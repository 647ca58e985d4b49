"""``objx-edge deploy``: checkpoint → every deployable artifact, checked and timed, with a report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from objectix_edge.cli.console import console, print_error

if TYPE_CHECKING:
    from objectix_edge.deploy.context import DeployContext, StepRecord
    from objectix_edge.deploy.runner import DeployHooks

STATUS_STYLE = {"ok": "green", "skipped": "yellow", "failed": "bold red", "not run": "dim"}


def console_hooks() -> DeployHooks:
    """Progress on the console: one line when a step starts, one when it ends, dim notes in between."""
    from objectix_edge.deploy.runner import DeployHooks

    def start(name: str, title: str, index: int, total: int) -> None:
        console.print(f"[{index}/{total}] {name}: {title}…", markup=False, highlight=False)

    def done(record: StepRecord) -> None:
        style = STATUS_STYLE.get(record.status.value, "")
        console.print(
            f"      {record.status.value} ({record.seconds:.1f} s): {record.message}",
            style=style,
            markup=False,
            highlight=False,
        )

    def note(message: str) -> None:
        console.print(f"      {message}", style="dim", markup=False, highlight=False)

    return DeployHooks(start=start, done=done, note=note)


def finish(ctx: DeployContext) -> None:
    """Say where the report is; a failed step ends in one red line and exit code 1."""
    from objectix_edge.deploy.deploy_report import REPORT_JSON, REPORT_MD

    console.print(f"report: {ctx.out / REPORT_MD} (figures in {ctx.out / REPORT_JSON})", markup=False, highlight=False)
    failed = ctx.failed_step()
    if failed is not None:
        print_error(f"deploy step {failed.name!r} failed: {failed.message} (earlier artifacts kept in {ctx.out})")
        raise typer.Exit(1)
    if ctx.inconclusive:  # not a failure: the held-out images could not decide; the report says how many would
        console.print(
            "INCONCLUSIVE parity (more held-out images would decide it): " + "; ".join(ctx.inconclusive),
            style="yellow",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


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
        None, "--max-drop", help="INT8 accuracy budget in points: keep sensitive layers FP32 to stay within it."
    ),
    calib_images: int = typer.Option(
        32, "--calib-images", help="Images used for INT8 calibration (the rest are held out)."
    ),
    parity_images: int = typer.Option(50, "--parity-images", help="Held-out images used for parity."),
    batch: str = typer.Option("1,4", "--batch", help="Batch sizes to benchmark, e.g. 1,4,16."),
    warmup: int = typer.Option(3, "--warmup", help="Benchmark warm-up iterations."),
    iters: int = typer.Option(20, "--iters", help="Benchmark timed iterations per batch."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (for parity and bench)."),
    threads: int | None = typer.Option(None, "--threads", help="Intra-op threads for ONNX Runtime and torch."),
    seed: int = typer.Option(0, "--seed", help="Seed of the calibration / held-out split."),
    cpu_isa: str = typer.Option(
        "auto", "--cpu-isa", help="CPU the int8cpu file is for: auto (this machine), vnni, x86 or arm64."
    ),
) -> None:
    """Export, convert to FP16, calibrate INT8, build TensorRT engines (when present), check parity, benchmark, report.

    Example: objx-edge deploy runs/det/best.pt --data coco/images --ann coco/instances.json --out deploy/ --max-drop 1.0

    On your own footage (no labels): objx-edge deploy det.pt --video street.mp4 --out deploy/
    """
    from objectix_edge.cli.bench_cmd import parse_batches
    from objectix_edge.cpu_isa import isa_option
    from objectix_edge.deploy.deploy_config import DeployConfig
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
