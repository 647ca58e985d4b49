"""Parity: run an artifact and its PyTorch original on the same real images and compare them.

Detector: detections matched as sets (class + IoU, see eval/matching.py), box and score differences
relative to the reference's max abs, COCO mAP of each against ground truth, and the artifact's mAP
against the original's detections (agreement). Classifier: ROIs from the annotation boxes, logit
differences, top-1 of each and the agreement rate. The artifact's precision (read from the file)
picks the budget (eval/budgets.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.data.coco import CocoSource, load_coco
from objectix_edge.enums import Task
from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.eval.agreement import coco_subset
from objectix_edge.eval.budgets import Budget, BudgetCheck, budget_for
from objectix_edge.eval.evidence import RoiOutcome, classifier_evidence, detector_evidence
from objectix_edge.eval.inference import (
    DetectorBatch,
    RoiBatch,
    coco_rows,
    detect,
    detector_batches,
    roi_batches,
    run_batch,
)
from objectix_edge.eval.matching import MatchResult, match_detections
from objectix_edge.eval.parity_config import ParityConfig
from objectix_edge.eval.parity_report import ClassifierParity, DetectionParity, ParityReport
from objectix_edge.eval.verdict import Evidence, exactness_judgement, statistical_judgement
from objectix_edge.modelio.postprocess import softmax
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.open import open_runner
from objectix_edge.runtime.torch_runner import TorchRunner

DEFAULT_STRIDE = 4
LOGIT_TIE = 1e-6  # two logits this close (relative to max(1, |logit|)) are a tie for FP32 exactness


def parity_image_ids(source: CocoSource, max_images: int | None) -> list[int]:
    """The first ``max_images`` images by id (deterministic) with a box of the model's categories."""
    ids = [i for i in source.image_ids if len(source.targets(i).labels)]
    if max_images is not None:
        ids = ids[:max_images]
    if not ids:
        raise InputError(
            f"{source.ann_file}: no image has a box of the model's categories; pass annotations for its classes"
        )
    return ids


DetectorEvidenceFn = Callable[[list[dict[str, Any]], list[dict[str, Any]]], tuple[Evidence, dict[str, Any]]]


def detector_parity(
    artifact: Runner,
    reference: Runner,
    batches: Iterable[DetectorBatch],
    iou_threshold: float,
    conf: float,
    evidence_of: DetectorEvidenceFn,
) -> tuple[DetectionParity, Evidence]:
    """Both detectors on the same batches (labelled images or footage): detections matched as sets, COCO
    rows of each, and ``evidence_of(reference rows, artifact rows)`` (with or without ground truth)."""
    spec = artifact.spec
    # Heatmap cell size: a peak may move to the neighbouring cell between backends (eval/matching.py).
    stride = float(spec.model_kwargs.get("out_stride", DEFAULT_STRIDE))
    total = MatchResult()
    ref_dets: list[dict[str, Any]] = []
    art_dets: list[dict[str, Any]] = []
    for batch in batches:
        both = zip(detect(reference, [batch]), detect(artifact, [batch]), strict=True)
        for (image_id, ref_rows, lb), (_, art_rows, _) in both:
            total = total + match_detections(
                ref_rows, art_rows, iou_threshold, score_floor=conf, capacity=spec.max_det, peak_window=stride
            )
            ref_dets += coco_rows(ref_rows, lb, image_id, spec, conf)
            art_dets += coco_rows(art_rows, lb, image_id, spec, conf)
    evidence, figures = evidence_of(ref_dets, art_dets)
    parity = DetectionParity(
        match=total,
        rel_box_diff=total.max_box_diff / max(total.max_abs_box, 1e-12),
        rel_score_diff=total.max_score_diff / max(total.max_abs_score, 1e-12),
        **figures,
    )
    return parity, evidence


def _detector_parity(
    artifact: Runner, reference: Runner, source: CocoSource, ids: list[int], config: ParityConfig
) -> tuple[DetectionParity, Evidence]:
    gt = coco_subset(source.coco, ids)
    return detector_parity(
        artifact,
        reference,
        detector_batches(source, ids, artifact.spec, config.batch),
        config.iou_threshold,
        config.conf,
        lambda ref, art: detector_evidence(gt, ref, art, artifact.spec.category_ids, config.bootstrap),
    )


def top1_ties(reference: np.ndarray, artifact: np.ndarray, tolerance: float = LOGIT_TIE) -> np.ndarray:
    """Per ROI: the two top-1s differ but the reference's logits of both classes tie (within ``tolerance``
    × max(1, the row's largest |logit|)), so one ulp decides which wins: not a real flip."""
    rows = np.arange(len(reference))
    ref_top, art_top = reference.argmax(1), artifact.argmax(1)
    scale = np.maximum(1.0, np.abs(reference).max(1))
    gap = np.abs(reference[rows, ref_top] - reference[rows, art_top])
    return (ref_top != art_top) & (gap <= tolerance * scale)


def classifier_outputs(
    artifact: Runner, reference: Runner, batches: Iterable[RoiBatch]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(reference logits, artifact logits, labels, owner image/frame of each ROI) over ``batches``."""
    ref_parts, art_parts, labels, owners = [], [], [], []
    for batch in batches:
        ref_parts.append(run_batch(reference, batch.feeds))
        art_parts.append(run_batch(artifact, batch.feeds))
        labels.append(batch.labels)
        owners.append(batch.image_ids)
    if not labels:
        return (np.zeros((0, 0)), np.zeros((0, 0)), np.zeros(0, np.int64), np.zeros(0, np.int64))
    ref, art = np.concatenate(ref_parts).astype(np.float64), np.concatenate(art_parts).astype(np.float64)
    return ref, art, np.concatenate(labels), np.concatenate(owners)


def classifier_figures(ref: np.ndarray, art: np.ndarray, truth: np.ndarray | None) -> ClassifierParity:
    """Logit differences, top-1 agreement, and (with labels) each model's top-1."""
    max_diff, max_ref = float(np.abs(ref - art).max()), float(np.abs(ref).max())
    ref_top, art_top = ref.argmax(1), art.argmax(1)
    return ClassifierParity(
        rois=len(ref),
        max_abs_diff=max_diff,
        max_abs_reference=max_ref,
        rel_diff=max_diff / max(max_ref, 1e-12),
        max_prob_diff=float(np.abs(softmax(ref) - softmax(art)).max()),
        top1_reference=None if truth is None else float(np.mean(ref_top == truth) * 100),
        top1_artifact=None if truth is None else float(np.mean(art_top == truth) * 100),
        agreement=float(np.mean(ref_top == art_top) * 100),
        tied_flips=int(top1_ties(ref, art).sum()),
    )


def _classifier_parity(
    artifact: Runner, reference: Runner, source: CocoSource, ids: list[int], config: ParityConfig
) -> tuple[ClassifierParity, Evidence]:
    batches = roi_batches(source, ids, artifact.spec, config.batch)
    ref, art, truth, owners = classifier_outputs(artifact, reference, batches)
    if not len(truth):
        raise InputError(f"{config.ann_file}: no usable ROI of the model's categories in {len(ids)} images")
    outcome = RoiOutcome(owners, truth, ref.argmax(1), art.argmax(1))
    return classifier_figures(ref, art, truth), classifier_evidence(outcome, config.bootstrap)


def exactness_checks(budget: Budget, det: DetectionParity | None, cls: ClassifierParity | None) -> list[BudgetCheck]:
    """The exactness checks (FP32): raw output differences and identical detections / top-1."""
    checks: list[BudgetCheck] = []
    if det is not None:
        if budget.max_rel_diff is not None:
            checks += [
                BudgetCheck("box diff / max abs", det.rel_box_diff, budget.max_rel_diff),
                BudgetCheck("score diff / max abs", det.rel_score_diff, budget.max_rel_diff),
            ]
        if budget.exact:
            checks.append(BudgetCheck("unmatched detections", det.match.unmatched, 0))
    if cls is not None:
        if budget.max_rel_diff is not None:
            checks.append(BudgetCheck("logit diff / max abs", cls.rel_diff, budget.max_rel_diff))
        if budget.exact:  # top-1s that differ on tied logits are not flips (top1_ties)
            flips = (100.0 - cls.agreement) - 100.0 * cls.tied_flips / max(cls.rois, 1)
            checks.append(BudgetCheck("top-1 disagreement", max(0.0, round(flips, 9)), 0.0, " %"))
    return checks


def _excused_notes(det: DetectionParity | None, cls: ClassifierParity | None) -> list[str]:
    """What the exactness checks counted as ties rather than differences (eval/matching.py, top1_ties)."""
    notes = []
    if det is not None and (det.match.excused or det.match.flipped_pairs):
        notes.append(
            f"excused as one-ulp ties: {det.match.excused} rows at the TopK cut, the score floor or beside a tied "
            f"neighbour, {det.match.flipped_pairs} peaks flipped to the adjacent cell"
        )
    if cls is not None and cls.tied_flips:
        notes.append(f"excused: {cls.tied_flips} top-1 changes between tied logits")
    return notes


def check_same_model(artifact: Runner, reference: Runner) -> None:
    a, r = artifact.spec, reference.spec
    if a.name != r.name or a.categories != r.categories or a.task != r.task:
        raise ArtifactError(
            f"{artifact.path}: holds {a.name} with {a.num_classes} classes but the reference {reference.path} holds "
            f"{r.name} with {r.num_classes}; pass the checkpoint it was exported from"
        )


def compare_runners(artifact: Runner, reference: Runner, config: ParityConfig) -> ParityReport:
    """Parity of two open runners on the configured images (the reference is the PyTorch original)."""
    check_same_model(artifact, reference)
    if config.batch < 1:
        raise InputError(f"batch must be at least 1, got {config.batch}")
    source = load_coco(config.images_dir, config.ann_file, categories=artifact.spec.category_names)
    ids = parity_image_ids(source, config.max_images)
    budget = config.budget or budget_for(artifact.spec.task, artifact.precision)
    det = cls = None
    if artifact.spec.task == Task.DETECT:
        det, evidence = _detector_parity(artifact, reference, source, ids, config)
    else:
        cls, evidence = _classifier_parity(artifact, reference, source, ids, config)
    return judged_report(artifact, reference, budget, det, cls, evidence, len(ids))


def judged_report(
    artifact: Runner,
    reference: Runner,
    budget: Budget,
    det: DetectionParity | None,
    cls: ClassifierParity | None,
    evidence: Evidence,
    samples: int,
    **extra: Any,
) -> ParityReport:
    """The verdict on measured parity (exactness for FP32, the statistical gates otherwise) as a report;
    ``samples`` images or frames; ``extra`` fields (e.g. ``footage``) go into the report as they are."""
    checks = tuple(exactness_checks(budget, det, cls))
    if budget.exact:
        judgement = exactness_judgement(checks, _excused_notes(det, cls))
    else:
        judgement = statistical_judgement(budget, evidence)
    return ParityReport(
        artifact=str(artifact.path),
        reference=str(reference.path),
        task=artifact.spec.task,
        precision=artifact.precision,
        backend=artifact.describe(),
        images=samples,
        budget=budget,
        checks=checks,
        judgement=judgement,
        evidence=evidence,
        detection=det,
        classification=cls,
        int8_kernels=kernels.value if (kernels := artifact.capabilities.int8_kernels) is not None else None,
        **extra,
    )


def reference_runner(reference: Path | str, artifact: Runner, device: str = "cpu") -> Runner:
    """The PyTorch original of ``artifact`` (on CUDA when the artifact is judged there, else the CPU), run at
    the artifact's input size: the artifact may have been exported at another --imgsz."""

    ref_device = device if device.startswith("cuda") else "cpu"
    ref = TorchRunner.from_checkpoint(reference, device=ref_device)
    if ref.spec.input_size != artifact.spec.input_size:
        ref = TorchRunner(ref.model, ref.spec.with_input_size(artifact.spec.input_size), ref.path, device=ref_device)
    return ref


@contextlib.contextmanager
def open_pair(
    artifact: Path | str, reference: Path | str, device: str = "cpu", threads: int | None = None
) -> Iterator[tuple[Runner, Runner]]:
    """The artifact (its spec and precision from the file, judged as its target computes it) and its
    PyTorch original, run at the artifact's input size."""

    with (
        open_runner(artifact, device=device, threads=threads, judge=True) as art,
        reference_runner(reference, art, device) as ref,
    ):
        yield art, ref


def run_parity(artifact: Path | str, reference: Path | str, config: ParityConfig) -> ParityReport:
    """Open ``artifact`` (its spec and precision from the file) and the reference checkpoint; compare them."""
    with open_pair(artifact, reference, config.device, config.threads) as (art, ref):
        return compare_runners(art, ref, config)
