"""Parity on your own footage, without labels: agreement with the original is all that is judged.

Detector: agreement mAP and the share of the original's confident detections matched (the same gates as
on labelled images); ROI / whole-image classifier: top-1 agreement on the boxes a detector finds in the
frames. Frames are the resampling unit, in blocks of consecutive frames (stats.block_bootstrap_weights):
neighbouring frames show the same objects, so single-frame resampling would give intervals far too
narrow. The metric's drop is "not judged (no labels)". By default the frames judged are the stretch the
calibration cache held out of this very file (sha256 checked), so INT8 is never judged on frames it was
calibrated on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.data.footage import (
    FootagePlan,
    count_frames,
    even_indices,
    footage_sha256,
    open_footage,
    read_frames,
)
from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.eval.budgets import budget_for
from objectix_edge.eval.evidence import BootstrapConfig, detector_agreement
from objectix_edge.eval.inference import RoiBatch, detect_frames, frame_batches, top_boxes
from objectix_edge.eval.parity import (
    check_same_model,
    classifier_figures,
    classifier_outputs,
    detector_parity,
    judged_report,
    open_pair,
)
from objectix_edge.eval.parity_config import FootageParityConfig
from objectix_edge.eval.parity_report import ParityReport
from objectix_edge.eval.uncertainty import (
    Interval,
    block_bootstrap_weights,
    block_length,
    share_interval,
    with_exact_bounds,
)
from objectix_edge.eval.verdict import Evidence
from objectix_edge.export.calib_cache import cache_beside, load_cache
from objectix_edge.modelio.roi_feeds import MIN_ROI_SIDE, preprocess_rois
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.open import open_runner


@dataclass(frozen=True)
class FrameChoice:
    indices: tuple[int, ...]
    per_second: float  # judged frames per second of footage (0 when unknown): sets the block length
    source: str  # how the range was chosen, for the report


def frame_range(text: str | None) -> tuple[int, int] | None:
    """``START:STOP`` (``--frames``) → (start, stop); None passes through."""
    if text is None:
        return None
    try:
        start, stop = (int(v) for v in text.split(":"))
    except ValueError as exc:
        raise InputError(f"--frames takes START:STOP frame indices, e.g. 600:800, got {text!r}") from exc
    if not 0 <= start < stop:
        raise InputError(f"--frames {text}: need 0 <= START < STOP")
    return start, stop


def held_out_range(artifact: Path | None, footage: Path) -> FootagePlan | None:
    """The FootagePlan of the calibration cache beside ``artifact`` when it was made from this footage."""

    cache = cache_beside(artifact) if artifact is not None else None
    plan = load_cache(cache).footage if cache is not None else None
    if plan is not None and plan["sha256"] == footage_sha256(footage):
        return FootagePlan.from_dict(plan)
    return None


def choose_frames(artifact: Path | None, config: FootageParityConfig) -> FrameChoice:
    """The judged frames: ``config.frames``, else the cache's held-out stretch, else the whole footage;
    every ``every``-th, thinned evenly to ``max_frames``. Frames the cache calibrated on are refused."""
    if config.every < 1:
        raise InputError(f"--every must be at least 1 frame, got {config.every}")
    plan = held_out_range(artifact, config.footage)
    if config.frames is not None:
        (start, stop), how = config.frames, "frames given"
    elif plan is not None:
        (start, stop), how = plan.holdout, "held out by the calibration cache"
    else:
        total, _, _ = count_frames(config.footage)
        (start, stop), how = (0, total), "all frames (no calibration on this footage)"
    indices = list(range(start, stop, config.every))
    if plan is not None and set(indices) & set(plan.calib_frames):
        raise InputError(
            f"{config.footage}: frames {start}–{stop - 1} include frames INT8 was calibrated on; judge on the "
            f"held-out stretch (frames {plan.holdout[0]}–{plan.holdout[1] - 1}) or other footage"
        )
    if config.max_frames is not None and len(indices) > config.max_frames:
        indices = [indices[i] for i in even_indices(0, len(indices), config.max_frames)]
    if not indices:
        raise InputError(f"{config.footage}: no frame to judge in {start}–{stop - 1}; pass longer footage")
    fps = plan.fps if plan is not None else _fps(config.footage)
    stride = (indices[-1] - indices[0]) / max(1, len(indices) - 1) if len(indices) > 1 else 1.0
    return FrameChoice(tuple(indices), fps / stride if fps > 0 else 0.0, how)


def _fps(path: Path) -> float:
    with open_footage(path) as source:
        return source.fps


class _Frames:
    """Reads the chosen frames once, remembering which came back (a frame may fail to decode)."""

    def __init__(self, path: Path, indices: tuple[int, ...]) -> None:
        self.path, self.indices = path, indices
        self.read: list[int] = []
        self.sizes: dict[int, tuple[int, int]] = {}

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        for index, bgr in read_frames(self.path, self.indices):
            self.read.append(index)
            self.sizes[index] = bgr.shape[:2]
            yield index, bgr

    def checked(self) -> int:
        if not self.read:
            raise InputError(f"{self.path}: none of the {len(self.indices)} chosen frames decoded; check the file")
        return len(self.read)


def _weights(frames: int, choice: FrameChoice, boot: BootstrapConfig) -> tuple[np.ndarray, int]:
    block = block_length(frames, choice.per_second)
    return block_bootstrap_weights(frames, block, boot.replicates, boot.seed), block


def _detector(artifact: Runner, reference: Runner, choice: FrameChoice, config: FootageParityConfig) -> tuple:
    frames = _Frames(config.footage, choice.indices)
    spec = artifact.spec
    block = [0]

    def evidence_of(ref: list[dict[str, Any]], art: list[dict[str, Any]]) -> tuple[Evidence, dict[str, Any]]:
        n = frames.checked()
        weights, block[0] = _weights(n, choice, config.bootstrap)
        images = [{"id": i, "height": h, "width": w} for i, (h, w) in sorted(frames.sizes.items())]
        agree = detector_agreement(
            ref,
            art,
            images,
            [{"id": c.id, "name": c.name} for c in spec.categories],
            spec.category_ids,
            weights,
            "frames",
        )
        # Like top-1 agreement: a share of the original's confident detections, widened by its exact bounds.
        matched = None if agree.matched is None else with_exact_bounds(agree.matched, agree.found, agree.confident)
        evidence = Evidence(
            images=n,
            reference_metric=None,
            drop=None,
            agreement=agree.agreement,
            matched=matched,
            too_weak=agree.too_weak,
            unit="frames",
        )
        figures = {
            "map_reference": None,
            "map_artifact": None,
            "map_agreement": agree.agreement.value,
            "confident_detections": agree.confident,
            "matched_confident": agree.found,
        }
        return evidence, figures

    batches = frame_batches(frames, spec, config.batch)
    det, evidence = detector_parity(artifact, reference, batches, config.iou_threshold, config.conf, evidence_of)
    return det, None, evidence, block[0], frames


def roi_outcomes(
    frames: _Frames, detector: Runner, artifact: Runner, reference: Runner, config: FootageParityConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reference logits, artifact logits, frame position of each ROI) on the detector's boxes."""

    def batches() -> Iterator[RoiBatch]:
        chunk: list[tuple[int, np.ndarray]] = []
        for item in frames:
            chunk.append(item)
            if len(chunk) == config.batch:
                yield _rois(chunk)
                chunk = []
        if chunk:
            yield _rois(chunk)

    def _rois(chunk: list[tuple[int, np.ndarray]]) -> RoiBatch:
        found = detect_frames(detector, [bgr for _, bgr in chunk], config.roi_conf)
        parts, owners = [], []
        for (index, bgr), (_, rows, _) in zip(chunk, found, strict=True):
            boxes = top_boxes(rows, config.rois_per_frame, MIN_ROI_SIDE)
            parts.append(preprocess_rois(bgr, boxes, artifact.spec))
            owners.append(np.full(len(boxes), index, np.int64))
        feeds = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        ids = np.concatenate(owners)
        return RoiBatch(feeds, np.full(len(ids), -1, np.int64), ids)

    ref, art, _, owners = classifier_outputs(artifact, reference, (b for b in batches() if len(b.image_ids)))
    return ref, art, owners


def classifier_agreement(owners: np.ndarray, ref_top: np.ndarray, art_top: np.ndarray, weights: np.ndarray) -> Interval:
    """Top-1 agreement (%) with the union of two intervals: the block bootstrap over frames (neighbouring
    frames' ROIs are the same objects, so they move together) and Clopper–Pearson over ROIs (exact when
    ROIs are independent; with no flip at all the bootstrap has nothing to resample and is degenerate)."""
    frames = weights.shape[1]
    count = np.bincount(owners, minlength=frames).astype(float)
    agree = np.bincount(owners, ref_top == art_top, minlength=frames)
    return with_exact_bounds(share_interval(agree, count, weights), int(agree.sum()), int(count.sum()))


def _classifier(artifact: Runner, reference: Runner, choice: FrameChoice, config: FootageParityConfig) -> tuple:
    if config.detector is None:
        raise InputError(
            f"{config.footage}: footage has no boxes to classify; pass --detector DETECTOR (its boxes on the frames)"
        )
    frames = _Frames(config.footage, choice.indices)
    with open_runner(config.detector, device=config.device, threads=config.threads) as detector:
        if detector.spec.task != Task.DETECT:
            raise InputError(f"{config.detector}: --detector must be a detector, not a {detector.spec.task.value}")
        ref, art, owners = roi_outcomes(frames, detector, artifact, reference, config)
    n = frames.checked()
    if not len(owners):
        raise InputError(
            f"{config.footage}: {config.detector} found no box with score ≥ {config.roi_conf:g} in {n} frames; "
            "judge on footage where it finds objects"
        )
    position = {index: k for k, index in enumerate(frames.read)}
    owners = np.asarray([position[int(i)] for i in owners], np.int64)
    weights, block = _weights(n, choice, config.bootstrap)
    ref_top, art_top = ref.argmax(1), art.argmax(1)
    flips = int(np.count_nonzero(ref_top != art_top))
    evidence = Evidence(
        images=n,
        reference_metric=None,
        drop=None,
        agreement=classifier_agreement(owners, ref_top, art_top, weights),
        flips=flips,
        rois=len(owners),
        unit="frames",
    )
    return None, classifier_figures(ref, art, None), evidence, block, frames


def compare_footage(artifact: Runner, reference: Runner, config: FootageParityConfig) -> ParityReport:
    """Parity of two open runners on footage (no labels): agreement gates only, frames in blocks."""
    check_same_model(artifact, reference)
    if config.batch < 1:
        raise InputError(f"batch must be at least 1, got {config.batch}")
    choice = choose_frames(artifact.path, config)
    budget = config.budget or budget_for(artifact.spec.task, artifact.precision)
    judge = _detector if artifact.spec.task == Task.DETECT else _classifier
    det, cls, evidence, block, frames = judge(artifact, reference, choice, config)
    report = judged_report(
        artifact,
        reference,
        budget,
        det,
        cls,
        evidence,
        frames.checked(),
        footage={
            "source": str(config.footage),
            "sha256": footage_sha256(config.footage),
            "frames_judged": frames.read,
            "frames_chosen": len(choice.indices),
            "chosen_by": choice.source,
            "block_length": block,
            "frames_per_second_judged": choice.per_second,
            "resampling": "circular block bootstrap over consecutive frames (neighbouring frames are not independent)",
            "metric_drop": "not judged (no labels)",
        },
    )
    # FP32's exactness too was judged on frames: the verdict's numbers count frames, not images.
    return replace(report, judgement=replace(report.judgement, unit="frames"))


def run_footage_parity(artifact: Path | str, reference: Path | str, config: FootageParityConfig) -> ParityReport:
    """Open the artifact and its original; judge their agreement on ``config.footage``."""
    with open_pair(artifact, reference, config.device, config.threads) as (art, ref):
        return compare_footage(art, ref, config)
