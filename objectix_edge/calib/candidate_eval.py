"""Scores candidate INT8 files on held-out images, for ``calibrate --max-drop``'s search.

The search runs dozens of candidates on the same images, so the images are decoded and preprocessed once
here (exactly as eval.detection / eval.classification do) and only inference and scoring run per
candidate. Each candidate runs as its target computes it (``judge=True``), and its outputs are judged
against the FP32 file's outputs with the same evidence ``parity`` uses (eval/evidence.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from objectix_edge.data.coco import CocoSource, load_coco
from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.eval.detection import coco_map
from objectix_edge.eval.evidence import RoiOutcome, classifier_evidence, detector_evidence
from objectix_edge.eval.inference import classify, coco_rows, detect, detector_batches, roi_batches
from objectix_edge.eval.verdict import Evidence
from objectix_edge.runtime.ort_runner import OrtRunner
from objectix_edge.spec import ModelSpec


class CandidateEvaluator(Protocol):
    def outputs(self, path: Path, batches: int | None = None) -> Any:
        """The file's outputs on every image, or on the first ``batches`` batches (a cheaper ranking)."""
        ...

    def metric(self, outputs: Any) -> float: ...

    def evidence(self, reference: Any, outputs: Any) -> Evidence: ...


def make_evaluator(spec: ModelSpec, images_dir: Path, ann_file: Path) -> tuple[CandidateEvaluator, list[int]]:
    """Evaluator over a COCO validation folder (mAP×100 or top-1×100) and its image ids."""
    source = load_coco(images_dir, ann_file, spec.category_names)
    evaluator: CandidateEvaluator = (
        _DetectorEval(spec, source) if spec.task == Task.DETECT else _ClassifierEval(spec, source)
    )
    return evaluator, list(source.image_ids)


def score(evaluator: CandidateEvaluator, path: Path) -> float:
    """The metric of one file, in points."""
    return evaluator.metric(evaluator.outputs(path))


class _DetectorEval:
    def __init__(self, spec: ModelSpec, source: CocoSource, batch: int = 8) -> None:
        self.spec, self.source = spec, source
        self.batches = list(detector_batches(source, source.image_ids, spec, batch))

    def outputs(self, path: Path, batches: int | None = None) -> list[dict[str, Any]]:
        """Detections in the COCO results format."""
        results: list[dict[str, Any]] = []
        with OrtRunner(path, judge=True) as runner:
            for image_id, rows, lb in detect(runner, self.batches[:batches]):
                results += coco_rows(rows, lb, image_id, self.spec)
        return results

    def metric(self, outputs: list[dict[str, Any]]) -> float:
        return 100.0 * coco_map(self.source.coco, outputs, self.spec.category_ids).map

    def evidence(self, reference: list[dict[str, Any]], outputs: list[dict[str, Any]]) -> Evidence:
        return detector_evidence(self.source.coco, reference, outputs, self.spec.category_ids)[0]


class _ClassifierEval:
    def __init__(self, spec: ModelSpec, source: CocoSource, batch: int = 64) -> None:
        # The ROIs eval.classification and parity score: every usable ground-truth box of the model's classes.
        self.spec, self.batches = spec, list(roi_batches(source, source.image_ids, spec, batch))
        if not self.batches:
            raise InputError(f"{source.ann_file}: no validation box of the model's categories; pass other --val-data")
        self.labels = np.concatenate([b.labels for b in self.batches])
        self.owners = np.concatenate([b.image_ids for b in self.batches])

    def outputs(self, path: Path, batches: int | None = None) -> np.ndarray:
        """Top-1 class of every ROI (of the first ``batches`` batches)."""
        with OrtRunner(path, judge=True) as runner:
            return np.concatenate([logits.argmax(1) for _, logits in classify(runner, self.batches[:batches])])

    def metric(self, outputs: np.ndarray) -> float:
        return 100.0 * float(np.mean(outputs == self.labels[: len(outputs)]))

    def evidence(self, reference: np.ndarray, outputs: np.ndarray) -> Evidence:
        return classifier_evidence(RoiOutcome(self.owners, self.labels, reference, outputs))
