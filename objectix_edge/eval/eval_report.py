"""Evaluate any artifact (checkpoint, ONNX, engine) on a COCO folder and write the requested files.

Everything is computed before anything is written, so a failure leaves no partial output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from objectix_edge.data.coco import load_coco
from objectix_edge.defaults import DEVICE, EVAL_BATCH, EVAL_CONF, EVAL_PER_CLASS_IMAGES, EVAL_ROI_MASK
from objectix_edge.enums import Task
from objectix_edge.eval.classification import (
    classification_metrics,
    evaluate_image_classifier,
    objectix_figures,
    predict_source_rois,
    save_confusion_png,
)
from objectix_edge.eval.detection import evaluate_detector
from objectix_edge.fileio import write_json_atomic
from objectix_edge.outputs import check_outputs
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.open import open_runner
from objectix_edge.spec import RoiMode


def open_eval_runner(path: Path, device: str = "cpu") -> Runner:
    """The Runner for ``path``: checkpoints, ONNX files and engines all go through runtime.open.

    An INT8 ONNX file is scored as its target computes it (the TensorRT form by simulated quantization).
    """

    return open_runner(path, device=device, judge=True)


def evaluate_artifact(
    artifact: Path,
    images_dir: Path,
    ann_file: Path,
    batch: int = EVAL_BATCH,
    conf: float = EVAL_CONF,
    device: str = DEVICE,
    json_out: Path | None = None,
    save_detections: Path | None = None,
    confusion_png: Path | None = None,
    roi_mask: str = EVAL_ROI_MASK,
    per_class_images: int = EVAL_PER_CLASS_IMAGES,
) -> dict[str, Any]:
    """Score ``artifact``; returns {model, backend, figures, written}. ROI classifiers: ``roi_mask`` box or
    segmentation (full-image models), ``per_class_images`` > 0 for ObjectiX's first-N-images protocol."""
    check_outputs(
        {"--json": json_out, "--save-detections": save_detections, "--confusion-png": confusion_png},
        {"artifact": artifact, "--data": images_dir, "--ann": ann_file},
    )
    source = load_coco(images_dir, ann_file)
    with open_eval_runner(artifact, device) as runner:
        spec = runner.spec
        figures: dict[str, Any]
        detections = None
        if spec.task == Task.DETECT:
            metrics, detections = evaluate_detector(runner, source, batch, conf)
            figures = metrics.as_dict()
            confusion = None
        elif spec.task == Task.CLASSIFY:
            cm = evaluate_image_classifier(runner, source, batch)
            figures = cm.as_dict(spec.category_names)
            confusion = cm.confusion
        else:
            preds = predict_source_rois(runner, source, batch, roi_mask, per_class_images)
            cm = classification_metrics(preds.y_true, preds.y_pred, spec.num_classes, preds.image_ids)
            figures = cm.as_dict(spec.category_names)
            if spec.roi_mode == RoiMode.FULL_IMAGE:  # ObjectiX: its own five figures, under its own names
                figures["objectix"] = objectix_figures(preds.y_true, preds.y_pred, spec.num_classes)
            confusion = cm.confusion
        backend = runner.describe()
    written: dict[str, Path] = {}
    if save_detections is not None and detections is not None:
        write_json_atomic(save_detections, detections)
        written["detections"] = save_detections
    if confusion_png is not None and confusion is not None:
        written["confusion matrix"] = save_confusion_png(confusion_png, confusion, spec.category_names)
    report = {
        "model": spec.name,
        "artifact": str(artifact),
        "backend": backend,
        "annotations": str(ann_file),
        "figures": figures,
    }
    if json_out is not None:
        write_json_atomic(json_out, report)
        written["figures"] = json_out
    return {**report, "written": written}
