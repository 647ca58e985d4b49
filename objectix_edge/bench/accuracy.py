"""Accuracy of benchmarked artifacts: against ground truth, and against their PyTorch original.

With a matching reference checkpoint the figures come from eval/parity (the same numbers the
``parity`` command enforces); without one only the ground-truth figure is measured, on the same
images parity would choose (the first ``max_images`` annotated images by id). Values are points:
COCO mAP@[.5:.95]×100 for a detector, top-1×100 for the ROI classifier.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.bench.suite import SuiteResult, model_key, open_artifact, reference_checkpoints
from objectix_edge.bench.suite_config import SuiteConfig
from objectix_edge.data.coco import load_coco
from objectix_edge.enums import Backend, Task
from objectix_edge.eval.agreement import coco_subset
from objectix_edge.eval.classification import predict_source_rois
from objectix_edge.eval.detection import coco_map, predict_source
from objectix_edge.eval.parity import ParityReport, compare_runners, parity_image_ids, reference_runner
from objectix_edge.eval.parity_config import ParityConfig
from objectix_edge.runtime.base import Runner


@dataclass(frozen=True)
class AccuracyConfig:
    data: Path
    ann: Path
    max_images: int | None = 50
    batch: int = 4


def parity_record(report: ParityReport, artifact: str, backend: str) -> dict[str, Any]:
    """A ParityReport as one flat accuracy record (shared by bench and deploy reports)."""
    if report.detection is not None:
        det = report.detection
        metric, value, ref, agreement = "mAP", det.map_artifact, det.map_reference, det.map_agreement
        max_abs, rel = det.match.max_box_diff, max(det.rel_box_diff, det.rel_score_diff)
    else:
        cls = report.classification
        assert cls is not None  # a report always carries one of the two
        metric, value, ref, agreement = "top-1", cls.top1_artifact, cls.top1_reference, cls.agreement
        max_abs, rel = cls.max_abs_diff, cls.rel_diff
    return {
        "artifact": artifact,
        "backend": backend,
        "precision": report.precision.value,
        "int8_kernels": report.int8_kernels,
        "metric": metric,
        "images": report.images,
        "value": value,
        "reference": report.reference,
        "reference_value": ref,
        "drop_points": None if value is None or ref is None else ref - value,
        "agreement": agreement,
        "max_abs_diff": max_abs,
        "rel_diff": rel,
        **_intervals(report),
        "limit_points": report.judgement.limit,
        "verdict": report.verdict.value,
        "images_needed": report.judgement.images_needed,
        "unit": report.judgement.unit,  # what images / images_needed count: images, or frames of footage
        "message": report.message,
    }


def _intervals(report: ParityReport) -> dict[str, float | None]:
    """The 95% bounds of the drop and of agreement (points), flat for CSV."""
    out: dict[str, float | None] = {}
    for name, interval in (("drop", report.evidence.drop), ("agreement", report.evidence.agreement)):
        out[f"{name}_low"] = None if interval is None else interval.low
        out[f"{name}_high"] = None if interval is None else interval.high
    return out


def _ground_truth_only(runner: Runner, config: AccuracyConfig, artifact: str) -> dict[str, Any]:
    """No original to compare with: the artifact's own figure on the images parity would use."""

    spec = runner.spec
    source = load_coco(config.data, config.ann, categories=spec.category_names)
    ids = parity_image_ids(source, config.max_images)
    subset = dataclasses.replace(source, image_ids=ids)
    value: float | None
    if spec.task == Task.DETECT:
        dets = predict_source(runner, subset, batch=config.batch)
        metric, value = "mAP", coco_map(coco_subset(source.coco, ids), dets, spec.category_ids).map * 100.0
    else:
        preds = predict_source_rois(runner, subset, batch=config.batch)
        metric, value = "top-1", float(np.mean(preds.y_true == preds.y_pred) * 100) if len(preds.y_true) else None
    return {
        "artifact": artifact,
        "backend": runner.backend.value,
        "precision": runner.precision.value,
        "int8_kernels": kernels.value if (kernels := runner.capabilities.int8_kernels) is not None else None,
        "metric": metric,
        "images": len(ids),
        "value": value,
        "reference": None,
        "reference_value": None,
        "drop_points": None,
        "agreement": None,
        "max_abs_diff": None,
        "rel_diff": None,
        "drop_low": None,
        "drop_high": None,
        "agreement_low": None,
        "agreement_high": None,
        "limit_points": None,
        "verdict": None,
        "images_needed": None,
        "message": "no PyTorch original given (--reference): ground truth only",
    }


def measure_accuracy(result: SuiteResult, config: AccuracyConfig, suite: SuiteConfig) -> list[dict[str, Any]]:
    """One record per artifact × backend of the run (the random-weight baseline has no accuracy)."""

    checkpoints = reference_checkpoints(suite)
    seen: set[tuple[str, str]] = set()
    records = []
    for row in result.rows:
        key = (row.artifact, row.backend)
        if key in seen or not Path(row.artifact).is_file():
            continue
        seen.add(key)
        path = Path(row.artifact)
        with open_artifact(path, Backend(row.backend), suite, judge=True) as runner:
            ckpt = checkpoints.get(model_key(runner.spec))
            if ckpt is None or runner.backend == Backend.TORCH:
                records.append(_ground_truth_only(runner, config, row.artifact))
                continue
            parity_cfg = ParityConfig(
                images_dir=config.data,
                ann_file=config.ann,
                max_images=config.max_images,
                batch=config.batch,
                device=suite.device,
                threads=suite.threads,
            )
            with reference_runner(ckpt, runner, suite.device) as reference:
                report = compare_runners(runner, reference, parity_cfg)
            records.append(parity_record(report, row.artifact, row.backend))
    return records
