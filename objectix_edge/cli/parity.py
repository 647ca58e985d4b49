"""``objx-edge parity``: an artifact vs its PyTorch original on real images, against the precision's budget."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from objectix_edge.cli.console import console, print_error


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def parity(
    artifact: Path = typer.Argument(..., help="Artifact to check: .onnx (any precision), .engine or .pt."),
    reference: Path = typer.Option(..., "--reference", "-r", help="PyTorch checkpoint the artifact came from."),
    data: Path = typer.Option(..., "--data", help="Folder of COCO images."),
    ann: Path = typer.Option(..., "--ann", help="COCO instances JSON for those images."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the report as JSON here."),
    max_images: int = typer.Option(50, "--max-images", help="Compare on the first N annotated images (by id)."),
    batch: int = typer.Option(4, "--batch", help="Batch size for both models."),
    device: str = typer.Option(
        "cpu", "--device", help="cpu, cuda[:N] (or tensorrt[:N] for ONNX Runtime's TensorRT provider)."
    ),
) -> None:
    """Compare an artifact with its PyTorch original; exit 1 when over the budget of the artifact's precision.

    Example: objx-edge parity det.onnx --reference det.pt --data coco/val2017 --ann coco/instances_val2017.json
    """
    from objectix_edge.eval.parity import ParityConfig, run_parity
    from objectix_edge.fileio import write_json_atomic

    report = run_parity(
        artifact,
        reference,
        ParityConfig(images_dir=data, ann_file=ann, max_images=max_images, batch=batch, device=device),
    )
    table = Table(
        title=f"parity: {artifact.name} vs {reference.name} ({report.precision.value}, {report.images} images)"
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
    console.print(table)
    if json_out is not None:
        write_json_atomic(json_out, report.to_dict())
        console.print(f"wrote {json_out}")
    if not report.passed:
        print_error(f"{artifact}: {report.message}")
        raise typer.Exit(1)
    console.print(f"[green]PASS[/green] {report.message}")
