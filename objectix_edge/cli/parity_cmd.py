"""``objx-edge parity``: an artifact vs its PyTorch original on real images; exit 0 PASS, 1 FAIL, 2 INCONCLUSIVE."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from objectix_edge.cli.console import console, print_error, say
from objectix_edge.defaults import default_of
from objectix_edge.eval.parity_config import FootageParityConfig, ParityConfig
from objectix_edge.eval.verdict import Verdict
from objectix_edge.fileio import write_json_atomic
from objectix_edge.outputs import check_outputs


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def parity(
    artifact: Path = typer.Argument(..., help="Artifact to check: .onnx (any precision), .engine or .pt."),
    reference: Path = typer.Option(..., "--reference", "-r", help="PyTorch checkpoint the artifact came from."),
    data: Path | None = typer.Option(None, "--data", help="Folder of COCO images (with --ann)."),
    ann: Path | None = typer.Option(None, "--ann", help="COCO instances JSON for those images."),
    video: Path | None = typer.Option(None, "--video", help="Your own footage, no labels: judge agreement only."),
    images: Path | None = typer.Option(None, "--images", help="A folder of frames, no labels: agreement only."),
    frames: str | None = typer.Option(
        None, "--frames", help="Footage: START:STOP frames to judge (default: the stretch calibration held out)."
    ),
    every: int = typer.Option(
        default_of(FootageParityConfig, "every"), "--every", help="Footage: judge every N-th frame."
    ),
    max_frames: int = typer.Option(
        default_of(FootageParityConfig, "max_frames"),
        "--max-frames",
        help="Footage: at most this many frames, spread evenly.",
    ),
    detector: Path | None = typer.Option(
        None, "--detector", help="Footage, classifier: classify this detector's boxes on the frames."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the report as JSON here."),
    max_images: int = typer.Option(
        default_of(ParityConfig, "max_images"),
        "--max-images",
        help="Compare on the first N annotated images (by id), every ROI of each.",
    ),
    batch: int = typer.Option(default_of(ParityConfig, "batch"), "--batch", help="Batch size for both models."),
    device: str = typer.Option(
        default_of(ParityConfig, "device"),
        "--device",
        help="cpu, cuda[:N] (or tensorrt[:N] for ONNX Runtime's TensorRT provider).",
    ),
) -> None:
    """Compare an artifact with its PyTorch original: PASS (exit 0), FAIL (exit 1) or INCONCLUSIVE (exit 2).

    FP32 must reproduce the original; FP16 and INT8 are judged on agreement with the original, then on the
    task metric's drop with its 95% interval (MLPerf's limits: FP16 keeps 99.7%, INT8 99% of the metric).

    Example: objx-edge parity det.onnx --reference det.pt --data coco/val2017 --ann coco/instances_val2017.json

    On your own footage (no labels, agreement only): objx-edge parity det.int8cpu.onnx -r det.pt --video street.mp4
    """
    from objectix_edge.eval.judge import judge_parity

    check_outputs(
        {"--json": json_out},
        {
            "artifact": artifact,
            "--reference": reference,
            "--data": data,
            "--ann": ann,
            "--video": video,
            "--images": images,
        },
    )
    report = judge_parity(
        artifact,
        reference,
        data=data,
        ann=ann,
        video=video,
        images=images,
        frames=frames,
        every=every,
        max_frames=max_frames,
        max_images=max_images,
        batch=batch,
        device=device,
        detector=detector,
    )
    unit = report.judgement.unit
    table = Table(
        title=f"parity: {artifact.name} vs {reference.name} ({report.precision.value}, {report.images} {unit})"
    )
    table.add_column("quantity")
    table.add_column("value", justify="right")
    section = report.detection or report.classification
    for key, value in vars(section).items():
        if key == "match":
            for k, v in vars(value).items():
                table.add_row(f"match.{k}", _fmt(v))
        else:
            table.add_row(key, _fmt(value))
    ev = report.evidence
    for name, interval, suffix in (
        ("drop", ev.drop, " pt"),
        ("agreement", ev.agreement, " pt"),
        ("matched", ev.matched, " %"),
    ):
        if interval is not None:
            table.add_row(f"{name} [95% interval]", interval.describe(suffix))
    if report.footage is not None:
        judged = report.footage["frames_judged"]
        table.add_row("frames judged", f"{len(judged)} ({judged[0]}–{judged[-1]}, {report.footage['chosen_by']})")
        table.add_row("resampling", f"blocks of {report.footage['block_length']} consecutive frames")
        table.add_row("drop", "not judged (no labels)")
    if report.judgement.limit is not None:
        table.add_row("drop limit", f"{report.judgement.limit:.3g} pt")
    console.print(table)
    if json_out is not None:
        write_json_atomic(json_out, report.to_dict())
        say(f"wrote {json_out}")
    verdict = report.verdict
    if verdict == Verdict.FAIL:
        print_error(f"{artifact}: {report.message}")
        raise typer.Exit(1)
    colour = "green" if verdict == Verdict.PASS else "yellow"
    say((verdict.value, colour), f" {artifact}: {report.message}")
    if verdict == Verdict.INCONCLUSIVE:
        raise typer.Exit(2)
