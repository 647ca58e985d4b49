"""``objx-edge eval``: COCO mAP for a detector; accuracy, per-class P/R/F1 and a confusion matrix for classifiers
(plus ObjectiX's own five figures for ObjectiX models)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from objectix_edge.cli.console import console, say
from objectix_edge.defaults import DEVICE, EVAL_BATCH, EVAL_CONF, EVAL_PER_CLASS_IMAGES, EVAL_ROI_MASK


def eval(  # noqa: A001 - the command is called eval
    artifact: Path = typer.Argument(..., help="Checkpoint (.pt) or ONNX file to evaluate."),
    data: Path = typer.Option(..., "--data", help="Folder with the evaluation images."),
    ann: Path = typer.Option(..., "--ann", help="COCO instances JSON of those images."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the figures as JSON here."),
    save_detections: Path | None = typer.Option(
        None, "--save-detections", help="Detector: write detections in the COCO results format."
    ),
    confusion_png: Path | None = typer.Option(
        None, "--confusion-png", help="Classifier: write the confusion matrix as PNG."
    ),
    batch: int = typer.Option(
        EVAL_BATCH,
        "--batch",
        help="Images (detector) or ROIs (classifier) per inference call.",
    ),
    conf: float = typer.Option(EVAL_CONF, "--conf", help="Detector: minimum score kept (COCO practice: 0.001)."),
    device: str = typer.Option(DEVICE, "--device", help="cpu or cuda."),
    roi_mask: str = typer.Option(
        EVAL_ROI_MASK,
        "--roi-mask",
        help="ROI classifiers: box, or segmentation (annToMask; full-image models as ObjectiX).",
    ),
    per_class_images: int = typer.Option(
        EVAL_PER_CLASS_IMAGES,
        "--per-class-images",
        help="ROI classifiers: only the first N images of each class (ObjectiX: N = 2).",
    ),
) -> None:
    """Evaluate a model on a COCO folder: detector → mAP@[.5:.95], AP50, AP75, AR@100 (pycocotools);
    classifier → per-class and mean class accuracy, accuracy, image-level accuracy, macro precision/recall/F1.

    Example: objx-edge eval runs/det/best.pt --data coco/images --ann coco/instances.json --json det.json
    """
    from objectix_edge.eval.eval_report import evaluate_artifact

    report = evaluate_artifact(
        artifact,
        data,
        ann,
        batch=batch,
        conf=conf,
        device=device,
        json_out=json_out,
        save_detections=save_detections,
        confusion_png=confusion_png,
        roi_mask=roi_mask,
        per_class_images=per_class_images,
    )
    table = Table(title=escape(f"{report['model']} on {ann.name}: {report['backend']}"), show_header=False)
    for key, value in report["figures"].items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.4f}")
        elif isinstance(value, int):
            table.add_row(key, str(value))
        elif key.startswith("per_class_"):
            what = key.removeprefix("per_class_")
            for name, acc in value.items():
                table.add_row(escape(f"{what} [{name}]"), f"{acc:.4f}")
        elif key == "objectix":
            for name, figure in value.items():
                table.add_row(escape(f"ObjectiX: {name}"), f"{figure:.4f}")
    console.print(table)
    for name, path in report["written"].items():
        say(("wrote", "green"), f" {name}: {path}")
