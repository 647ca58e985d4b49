"""``objx-edge export``: checkpoint → ONNX (ModelSpec in the metadata, checked, simplified)."""

from __future__ import annotations

from pathlib import Path

import typer

from objectix_edge.cli.console import say
from objectix_edge.defaults import ONNX_DYNAMIC_BATCH, ONNX_OPSET, ONNX_SIMPLIFY


def export(
    checkpoint: Path = typer.Argument(..., help="Checkpoint (.pt) written by objx-edge train."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="ONNX file to write (default: beside the checkpoint, same name, .onnx)."
    ),
    imgsz: int | None = typer.Option(None, "--imgsz", help="Input size (square) (default: the checkpoint's)."),
    opset: int = typer.Option(ONNX_OPSET, "--opset", help="ONNX opset (18-23)."),
    dynamic_batch: bool = typer.Option(
        ONNX_DYNAMIC_BATCH, "--dynamic-batch/--static-batch", help="Dynamic batch axis, or batch fixed at 1."
    ),
    simplify: bool = typer.Option(ONNX_SIMPLIFY, "--simplify/--no-simplify", help="Simplify the graph with onnxslim."),
) -> None:
    """Export a checkpoint to ONNX: dynamo exporter, onnx.checker, shape inference, onnxslim, ModelSpec in metadata.

    Example: objx-edge export runs/det/best.pt -o models/det.onnx --opset 18
    """
    import onnx

    from objectix_edge.export.metadata import read_onnx_spec
    from objectix_edge.export.onnx import ExportConfig, default_onnx_path, export_onnx

    out = output or default_onnx_path(checkpoint)
    config = ExportConfig(imgsz=imgsz, opset=opset, dynamic_batch=dynamic_batch, simplify=simplify)
    path = export_onnx(checkpoint, out, config)
    spec = read_onnx_spec(path)
    graph = onnx.load(str(path)).graph

    def describe(values: list) -> str:
        return ", ".join(
            f"{v.name}[{','.join(str(d.dim_param or d.dim_value) for d in v.type.tensor_type.shape.dim)}]"
            for v in values
        )

    say(("wrote", "green"), f" {path} ({path.stat().st_size / 1e6:.2f} MB, opset {opset}, {len(graph.node)} nodes)")
    say(f"  {spec.name}: {describe(list(graph.input))} → {describe(list(graph.output))}, {spec.num_classes} classes")
