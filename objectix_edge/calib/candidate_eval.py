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

from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.eval.evidence import RoiOutcome, classifier_evidence, detector_evidence
from objectix_edge.eval.verdict import Evidence
from objectix_edge.spec import ModelSpec


class CandidateEvaluator(Protocol):
    def outputs(self, path: Path, batches: int | None = None) -> Any:
        """The file's outputs on every image, or on the first ``batches`` batches (a cheaper ranking)."""
        ...

    def metric(self, outputs: Any) -> float: ...

    def evidence(self, reference: Any, outputs: Any) -> Evidence: ...


def make_evaluator(spec: ModelSpec, images_dir: Path, ann_file: Path) -> tuple[CandidateEvaluator, list[int]]:
    """Evaluator over a COCO validation folder (mAP×100 or top-1×100) and its image ids."""
    from objectix_edge.data.coco import load_coco

    source = load_coco(images_dir, ann_file, spec.category_names)
    evaluator: CandidateEvaluator = (
        _DetectorEval(spec, source) if spec.task == Task.DETECT else _ClassifierEval(spec, source)
    )
    return evaluator, list(source.image_ids)


def score(evaluator: CandidateEvaluator, path: Path) -> float:
    """The metric of one file, in points."""
    return evaluator.metric(evaluator.outputs(path))


class _DetectorEval:
    def __init__(self, spec: ModelSpec, source: Any, batch: int = 8) -> None:
        from objectix_edge.data.coco import read_image
        from objectix_edge.pipeline.preprocess import preprocess_detector_batch

        self.spec, self.source = spec, source
        self.batches = []
        for start in range(0, len(source.image_ids), batch):
            ids = source.image_ids[start : start + batch]
            x, boxes = preprocess_detector_batch([read_image(source.image_path(i)) for i in ids], spec)
            self.batches.append((ids, x, boxes))

    def outputs(self, path: Path, batches: int | None = None) -> list[dict[str, Any]]:
        """Detections in the COCO results format."""
        from objectix_edge.eval.detection import DEFAULT_CONF, coco_results_for_image
        from objectix_edge.pipeline.postprocess import to_original
        from objectix_edge.runtime.ort_runner import OrtRunner

        results: list[dict[str, Any]] = []
        with OrtRunner(path, judge=True) as runner:
            name = runner.inputs()[0].name
            for ids, x, boxes in self.batches[:batches]:
                dets = runner.infer({name: x})[self.spec.output_names[0]]
                for k, image_id in enumerate(ids):
                    rows = to_original(dets[k], boxes[k], DEFAULT_CONF)
                    results.extend(coco_results_for_image(rows, image_id, self.spec))
        return results

    def metric(self, outputs: list[dict[str, Any]]) -> float:
        from objectix_edge.eval.detection import coco_map

        return 100.0 * coco_map(self.source.coco, outputs, self.spec.category_ids).map

    def evidence(self, reference: list[dict[str, Any]], outputs: list[dict[str, Any]]) -> Evidence:
        return detector_evidence(self.source.coco, reference, outputs, self.spec.category_ids)[0]


class _ClassifierEval:
    def __init__(self, spec: ModelSpec, source: Any, batch: int = 64) -> None:
        from objectix_edge.data.coco import read_image
        from objectix_edge.pipeline.preprocess import preprocess_rois

        label_of = {c.id: i for i, c in enumerate(spec.categories)}
        src_ids = [c.id for c in source.categories]
        feeds: list[dict[str, np.ndarray]] = []
        labels: list[int] = []
        owners: list[int] = []
        for image_id in source.image_ids:  # the ROIs eval.classification scores: every known GT box
            t = source.targets(image_id)
            keep = [k for k, lab in enumerate(t.labels) if src_ids[int(lab)] in label_of]
            if keep:
                feeds.append(preprocess_rois(read_image(t.path), t.boxes[keep], spec))
                labels.extend(label_of[src_ids[int(t.labels[k])]] for k in keep)
                owners.extend([len(feeds) - 1] * len(keep))
        if not labels:
            raise InputError(f"{source.ann_file}: no validation box of the model's categories; pass other --val-data")
        self.spec, self.labels, self.owners = spec, np.asarray(labels), np.asarray(owners)
        merged = {k: np.concatenate([f[k] for f in feeds]) for k in feeds[0]}
        self.batches = [{k: v[i : i + batch] for k, v in merged.items()} for i in range(0, len(labels), batch)]

    def outputs(self, path: Path, batches: int | None = None) -> np.ndarray:
        """Top-1 class of every ROI (of the first ``batches`` batches)."""
        from objectix_edge.runtime.ort_runner import OrtRunner

        with OrtRunner(path, judge=True) as runner:
            return np.concatenate(
                [runner.infer(b)[self.spec.output_names[0]].argmax(1) for b in self.batches[:batches]]
            )

    def metric(self, outputs: np.ndarray) -> float:
        return 100.0 * float(np.mean(outputs == self.labels[: len(outputs)]))

    def evidence(self, reference: np.ndarray, outputs: np.ndarray) -> Evidence:
        return classifier_evidence(RoiOutcome(self.owners, self.labels, reference, outputs))
