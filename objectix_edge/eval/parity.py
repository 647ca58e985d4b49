"""Parity: run an artifact and its PyTorch original on the same real images and compare them.

Detector: detections matched as sets (class + IoU, see eval/matching.py), box and score differences
relative to the reference's max abs, COCO mAP of each against ground truth, and the artifact's mAP
against the original's detections (agreement). Classifier: ROIs from the annotation boxes, logit
differences, top-1 of each and the agreement rate. The artifact's precision (read from the file)
picks the budget (eval/budgets.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.data.coco import CocoSource, load_coco, read_image
from objectix_edge.enums import Task
from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.eval.agreement import coco_subset
from objectix_edge.eval.budgets import Budget, BudgetCheck, budget_for
from objectix_edge.eval.evidence import BootstrapConfig, RoiOutcome, classifier_evidence, detector_evidence
from objectix_edge.eval.matching import MatchResult, match_detections
from objectix_edge.eval.parity_report import ClassifierParity, DetectionParity, ParityReport
from objectix_edge.eval.verdict import Evidence, exactness_judgement, statistical_judgement
from objectix_edge.pipeline.postprocess import to_original
from objectix_edge.pipeline.preprocess import preprocess_detector_batch, preprocess_rois
from objectix_edge.runtime.base import Runner
from objectix_edge.spec import ModelSpec

DEFAULT_STRIDE = 4


@dataclass(frozen=True)
class ParityConfig:
    """What to compare on: images (folder + COCO JSON), how many, batch size, device, budget override."""

    images_dir: Path
    ann_file: Path
    max_images: int | None = 50
    batch: int = 4
    device: str = "cpu"
    threads: int | None = None
    iou_threshold: float = 0.5
    # Detections at or below this score are not matched: the tail of a trained heatmap is background
    # cells whose scores tie to the ulp, so which of them fill the last rows is arbitrary.
    conf: float = 0.001
    budget: Budget | None = None
    bootstrap: BootstrapConfig = BootstrapConfig()


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


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _run(runner: Runner, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """Run one batch; a static-batch artifact gets its batch padded (and the padding dropped)."""
    # An artifact with FP16 inputs gets its feeds cast here, so both models see the same images.
    feeds = {i.name: feeds[i.name].astype(i.dtype, copy=False) for i in runner.inputs()}
    n = len(next(iter(feeds.values())))
    fixed = runner.inputs()[0].shape[0]
    if fixed in (-1, n):
        return np.asarray(next(iter(runner.infer(feeds).values())))
    outs = []
    for start in range(0, n, fixed):
        part = {k: v[start : start + fixed] for k, v in feeds.items()}
        short = fixed - len(part[next(iter(part))])
        part = {k: np.concatenate([v, np.repeat(v[-1:], short, axis=0)]) if short else v for k, v in part.items()}
        outs.append(np.asarray(next(iter(runner.infer(part).values())))[: fixed - short])
    return np.concatenate(outs)


def _coco_rows(rows: np.ndarray, image_id: int, spec: ModelSpec) -> list[dict[str, Any]]:
    """COCO results; boxes clipped to zero size (e.g. lying in the letterbox padding) are dropped."""
    cats = spec.categories
    return [
        {
            "image_id": image_id,
            "category_id": cats[int(c)].id,
            "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
            "score": float(s),
        }
        for x1, y1, x2, y2, s, c in rows.tolist()
        if x2 > x1 and y2 > y1
    ]


def _detector_parity(
    artifact: Runner, reference: Runner, source: CocoSource, ids: list[int], config: ParityConfig
) -> tuple[DetectionParity, Evidence]:
    spec = artifact.spec
    # Heatmap cell size: neighbouring cells with tied scores may both pass the peak test in one backend.
    stride = float(spec.model_kwargs.get("out_stride", DEFAULT_STRIDE))
    total = MatchResult()
    ref_dets: list[dict[str, Any]] = []
    art_dets: list[dict[str, Any]] = []
    for batch in _chunks(ids, config.batch):
        x, boxes = preprocess_detector_batch([read_image(source.image_path(i)) for i in batch], spec)
        ref_out, art_out = _run(reference, {"images": x}), _run(artifact, {"images": x})
        for image_id, lb, ref_rows, art_rows in zip(batch, boxes, ref_out, art_out, strict=True):
            total = total + match_detections(
                ref_rows,
                art_rows,
                config.iou_threshold,
                score_floor=config.conf,
                capacity=spec.max_det,
                peak_window=stride,
            )
            ref_dets += _coco_rows(to_original(ref_rows, lb), image_id, spec)
            art_dets += _coco_rows(to_original(art_rows, lb), image_id, spec)
    evidence, figures = detector_evidence(
        coco_subset(source.coco, ids), ref_dets, art_dets, spec.category_ids, config.bootstrap
    )
    parity = DetectionParity(
        match=total,
        rel_box_diff=total.max_box_diff / max(total.max_abs_box, 1e-12),
        rel_score_diff=total.max_score_diff / max(total.max_abs_score, 1e-12),
        **figures,
    )
    return parity, evidence


def _roi_feeds(
    source: CocoSource, ids: list[int], artifact: Runner
) -> tuple[list[dict[str, np.ndarray]], np.ndarray, np.ndarray]:
    """Every ROI of the chosen images (labels in the model's category order) and the image of each.

    One group of feeds per image when the model takes any image size (ObjectiX), else one group.
    """
    feeds: list[dict[str, np.ndarray]] = []
    labels: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for image_id in ids:
        targets = source.targets(image_id)
        if len(targets.boxes) == 0:
            continue
        feeds.append(preprocess_rois(read_image(targets.path), targets.boxes, artifact.spec))
        owners.append(np.full(len(targets.labels), len(owners)))
        labels.append(targets.labels)
    if not artifact.spec.dynamic_hw:
        feeds = [{k: np.concatenate([f[k] for f in feeds]) for k in artifact.spec.input_names}]
    return feeds, np.concatenate(labels), np.concatenate(owners)


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _classifier_parity(
    artifact: Runner, reference: Runner, source: CocoSource, ids: list[int], config: ParityConfig
) -> tuple[ClassifierParity, Evidence]:
    groups, labels, owners = _roi_feeds(source, ids, artifact)
    n = len(labels)
    ref_parts, art_parts = [], []
    for feeds in groups:
        for start in range(0, len(feeds[artifact.spec.input_names[0]]), config.batch):
            part = {k: v[start : start + config.batch] for k, v in feeds.items()}
            ref_parts.append(_run(reference, part))
            art_parts.append(_run(artifact, part))
    ref, art = np.concatenate(ref_parts).astype(np.float64), np.concatenate(art_parts).astype(np.float64)
    max_diff, max_ref = float(np.abs(ref - art).max()), float(np.abs(ref).max())
    ref_top, art_top = ref.argmax(1), art.argmax(1)
    parity = ClassifierParity(
        rois=n,
        max_abs_diff=max_diff,
        max_abs_reference=max_ref,
        rel_diff=max_diff / max(max_ref, 1e-12),
        max_prob_diff=float(np.abs(_softmax(ref) - _softmax(art)).max()),
        top1_reference=float(np.mean(ref_top == labels) * 100),
        top1_artifact=float(np.mean(art_top == labels) * 100),
        agreement=float(np.mean(ref_top == art_top) * 100),
    )
    return parity, classifier_evidence(RoiOutcome(owners, labels, ref_top, art_top), config.bootstrap)


def _checks(budget: Budget, det: DetectionParity | None, cls: ClassifierParity | None) -> list[BudgetCheck]:
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
        if budget.exact:
            checks.append(BudgetCheck("top-1 disagreement", 100.0 - cls.agreement, 0.0, " %"))
    return checks


def _check_same_model(artifact: Runner, reference: Runner) -> None:
    a, r = artifact.spec, reference.spec
    if a.name != r.name or a.categories != r.categories or a.task != r.task:
        raise ArtifactError(
            f"{artifact.path}: holds {a.name} with {a.num_classes} classes but the reference {reference.path} holds "
            f"{r.name} with {r.num_classes}; pass the checkpoint it was exported from"
        )


def compare_runners(artifact: Runner, reference: Runner, config: ParityConfig) -> ParityReport:
    """Parity of two open runners on the configured images (the reference is the PyTorch original)."""
    _check_same_model(artifact, reference)
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
    checks = tuple(_checks(budget, det, cls))
    judgement = exactness_judgement(checks) if budget.exact else statistical_judgement(budget, evidence)
    return ParityReport(
        artifact=str(artifact.path),
        reference=str(reference.path),
        task=artifact.spec.task,
        precision=artifact.precision,
        backend=artifact.describe(),
        images=len(ids),
        budget=budget,
        checks=checks,
        judgement=judgement,
        evidence=evidence,
        detection=det,
        classification=cls,
        int8_kernels=getattr(getattr(artifact, "int8_kernels", None), "value", None),
    )


def run_parity(artifact: Path | str, reference: Path | str, config: ParityConfig) -> ParityReport:
    """Open ``artifact`` (its spec and precision from the file) and the reference checkpoint; compare them."""
    from objectix_edge.runtime.open import open_runner
    from objectix_edge.runtime.torch_runner import TorchRunner

    with open_runner(artifact, device=config.device, threads=config.threads, judge=True) as art:
        ref_device = config.device if config.device.startswith("cuda") else "cpu"
        ref = TorchRunner.from_checkpoint(reference, device=ref_device)
        if ref.spec.input_size != art.spec.input_size:
            # The artifact may have been exported at another --imgsz; run the original at that size too.
            ref = TorchRunner(ref.model, ref.spec.with_input_size(art.spec.input_size), ref.path, device=ref_device)
        with ref:
            return compare_runners(art, ref, config)
