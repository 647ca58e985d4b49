"""``objx-edge predict``: one image through any artifact; top-K classes or detection rows, optionally as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from objectix_edge.cli.console import say
from objectix_edge.defaults import DEVICE
from objectix_edge.enums import Task
from objectix_edge.fileio import write_text_atomic
from objectix_edge.outputs import check_outputs


def predict(
    artifact: Path = typer.Argument(..., help="Checkpoint (.pt), ONNX file or TensorRT engine."),
    image: Path = typer.Option(..., "--image", help="Image file."),
    mask: Path | None = typer.Option(
        None, "--mask", help="ROI classifiers: single-channel PNG of the image's size, nonzero = inside."
    ),
    box: str | None = typer.Option(None, "--box", help="ROI classifiers: the ROI as X1,Y1,X2,Y2 in image pixels."),
    top: int = typer.Option(5, "--top", min=1, help="Classifiers: how many classes to print."),
    json_out: Path | None = typer.Option(
        None, "--json", help="Write probabilities (full softmax) or detections to this JSON file."
    ),
    device: str = typer.Option(DEVICE, "--device", help="cpu or cuda[:N]."),
) -> None:
    """Predict one image with the artifact's own preprocessing (the seeds' RunPrediction.py, for every artifact).

    Example: objx-edge predict models/objectix.onnx --image cat.jpg --mask cat_mask.png --top 3
    """
    from objectix_edge.serve.predict import predict_file

    check_outputs({"--json": json_out}, {"artifact": artifact, "--image": image, "--mask": mask})
    result = predict_file(artifact, image, mask, box, device)
    if result.spec.task == Task.DETECT:
        names = result.spec.category_names
        say(f"{len(result.detections)} detections")
        for x1, y1, x2, y2, score, cls in result.detections[:top]:
            say(f"  {names[int(cls)]:<16} {score:.4f}  [{x1:.1f}, {y1:.1f}, {x2:.1f}, {y2:.1f}]")
    else:
        for name, p in result.top(top):
            say(f"  {name:<16} {p:.4f}")
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(result.to_dict(), indent=1))
        say(("wrote", "green"), f" {json_out}")
