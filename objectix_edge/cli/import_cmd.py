"""``objx-edge import``: a foreign checkpoint (ObjectiX, torchvision classifier, MobileNet-like detector) → ours."""

from __future__ import annotations

from pathlib import Path

import typer

from objectix_edge.cli.console import say
from objectix_edge.defaults import (
    MOBILELIKE_BOX_FORMAT,
    MOBILELIKE_BOXES,
    MOBILELIKE_BOXES_SCALED,
    MOBILELIKE_NUM_CLASSES,
    OBJECTIX_MAX_SIDE,
    TORCHVISION_ARCH,
    TORCHVISION_IMGSZ,
)
from objectix_edge.outputs import check_outputs


def import_(
    fmt: str = typer.Argument(..., metavar="FORMAT", help="objectix, torchvision-classifier or mobilelike-det."),
    checkpoint: Path = typer.Argument(..., help="The foreign checkpoint (.torch, .pth, .ckpt)."),
    output: Path = typer.Option(..., "-o", "--output", help="Checkpoint (.pt) to write."),
    categories: str | None = typer.Option(
        None, "--categories", help="Comma-separated class names in head order (torchvision-classifier: required)."
    ),
    arch: str = typer.Option(TORCHVISION_ARCH, "--arch", help="torchvision-classifier: the architecture."),
    imgsz: int = typer.Option(
        TORCHVISION_IMGSZ, "--imgsz", help="torchvision-classifier: the square input size it was run at."
    ),
    num_classes: int = typer.Option(
        MOBILELIKE_NUM_CLASSES, "--num-classes", help="mobilelike-det: number of classes C."
    ),
    boxes: int = typer.Option(MOBILELIKE_BOXES, "--boxes", help="mobilelike-det: boxes per cell B."),
    box_format: str = typer.Option(MOBILELIKE_BOX_FORMAT, "--box-format", help="mobilelike-det: xywh (COCO) or xyxy."),
    boxes_scaled: bool = typer.Option(
        MOBILELIKE_BOXES_SCALED,
        "--boxes-scaled",
        help="mobilelike-det: the version that multiplies boxes by loc_layers.",
    ),
    max_side: int = typer.Option(
        OBJECTIX_MAX_SIDE, "--max-side", help="objectix: cap on the image's long side (0: none)."
    ),
) -> None:
    """Import a foreign checkpoint: every weight placed, the exact preprocessing recorded in the ModelSpec.

    Example: objx-edge import objectix 88000.torch -o models/objectix.pt
    """
    from objectix_edge.models.importers import import_to_checkpoint
    from objectix_edge.models.importers.options import importer_options

    check_outputs({"-o": output}, {"CHECKPOINT": checkpoint})
    options = importer_options(
        fmt,
        categories,
        arch=arch,
        imgsz=imgsz,
        num_classes=num_classes,
        boxes=boxes,
        box_format=box_format,
        boxes_scaled=boxes_scaled,
        max_side=max_side,
    )
    path, result = import_to_checkpoint(fmt, checkpoint, output, **options)
    say(("wrote", "green"), f" {path}: {result.summary}")
    if result.extras:
        say(f"  kept aside for train --init-from: {', '.join(sorted(result.extras))}")
