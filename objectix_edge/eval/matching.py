"""Match two detectors' outputs as sets (same class, best IoU), never row by row.

TopK returns tied scores in any order, so the same detections can sit in different rows in PyTorch
and ONNX Runtime (DESIGN.md pitfalls). Rows are matched greedily from the highest reference score.
Two kinds of unmatched rows are counted as *excused*, not as differences, because which of several
tied candidates survives is arbitrary and flips with one ulp:
- a row at the TopK cut (score within ``cut_tolerance`` of the last kept score of a full output) or
  at the score floor (it may sit just below the floor in the other output);
- a row with a same-class neighbour in its own output whose centre lies within ``peak_window`` pixels
  and whose score ties with it: two heatmap cells of equal value, so the 3×3 max-pool peak test keeps
  both in one backend and one in the other (seen on letterbox padding, where the heatmap is flat).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MatchResult:
    """Counts and worst-case differences of matched rows (boxes in input pixels)."""

    reference: int = 0
    candidate: int = 0
    matched: int = 0
    unmatched_reference: int = 0
    unmatched_candidate: int = 0
    excused: int = 0
    max_box_diff: float = 0.0
    max_score_diff: float = 0.0
    min_iou: float = 1.0
    max_abs_box: float = 0.0
    max_abs_score: float = 0.0

    @property
    def unmatched(self) -> int:
        return self.unmatched_reference + self.unmatched_candidate

    def __add__(self, other: MatchResult) -> MatchResult:
        return MatchResult(
            self.reference + other.reference,
            self.candidate + other.candidate,
            self.matched + other.matched,
            self.unmatched_reference + other.unmatched_reference,
            self.unmatched_candidate + other.unmatched_candidate,
            self.excused + other.excused,
            max(self.max_box_diff, other.max_box_diff),
            max(self.max_score_diff, other.max_score_diff),
            min(self.min_iou, other.min_iou),
            max(self.max_abs_box, other.max_abs_box),
            max(self.max_abs_score, other.max_abs_score),
        )


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between every row of ``a`` [N, 4] and ``b`` [M, 4] (x1, y1, x2, y2)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:4] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:4] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    # Two identical zero-area boxes are the same box.
    same = np.all(a[:, None, :4] == b[None, :, :4], axis=2)
    return np.where(union > 0, inter / np.maximum(union, 1e-12), same.astype(np.float64))


def _cut_score(rows: np.ndarray, capacity: int | None) -> float:
    """Lowest kept score when the output is full (TopK cut), else -inf (nothing was cut)."""
    if capacity is None or len(rows) < capacity or len(rows) == 0:
        return -np.inf
    return float(rows[:, 4].min())


def _has_tied_neighbour(rows: np.ndarray, i: int, window: float, tolerance: float) -> bool:
    """Whether another same-class row of ``rows`` is a neighbouring heatmap cell with a tied score."""
    if window <= 0:
        return False
    centres = (rows[:, :2] + rows[:, 2:4]) / 2
    near = np.all(np.abs(centres - centres[i]) <= window * 1.5, axis=1)
    tied = (rows[:, 5] == rows[i, 5]) & (np.abs(rows[:, 4] - rows[i, 4]) <= tolerance) & near
    tied[i] = False
    return bool(tied.any())


def match_detections(
    reference: np.ndarray,
    candidate: np.ndarray,
    iou_threshold: float = 0.5,
    score_floor: float = 0.0,
    capacity: int | None = None,
    cut_tolerance: float = 1e-5,
    peak_window: float = 0.0,
) -> MatchResult:
    """Match one image's ``[K, 6]`` rows (x1, y1, x2, y2, score, class) with score > ``score_floor``.

    ``capacity`` is max_det: when an output holds that many live rows, its lowest score is the TopK cut.
    ``peak_window`` is the detector's output stride in input pixels (0 disables the neighbour rule).
    """
    ref = np.asarray(reference, np.float64)
    cand = np.asarray(candidate, np.float64)
    ref, cand = ref[ref[:, 4] > score_floor], cand[cand[:, 4] > score_floor]
    ref = ref[np.argsort(-ref[:, 4], kind="stable")]
    # Rows within the tolerance of the TopK cut or of the score floor may fall on either side of it.
    cut = max(_cut_score(ref, capacity), _cut_score(cand, capacity), score_floor) + cut_tolerance
    taken = np.zeros(len(cand), dtype=bool)
    pairs: list[tuple[int, int, float]] = []
    unmatched_ref = excused = 0
    for i, row in enumerate(ref):
        same_class = np.flatnonzero((cand[:, 5] == row[5]) & ~taken)
        best, best_iou = -1, iou_threshold
        if len(same_class):
            ious = iou_matrix(row[None, :4], cand[same_class, :4])[0]
            k = int(np.argmax(ious))
            if ious[k] >= iou_threshold:
                best, best_iou = int(same_class[k]), float(ious[k])
        if best < 0:
            ok = row[4] <= cut or _has_tied_neighbour(ref, i, peak_window, cut_tolerance)
            excused += int(ok)
            unmatched_ref += int(not ok)
            continue
        taken[best] = True
        pairs.append((i, best, best_iou))
    left = cand[~taken]
    excused_cand = sum(
        1
        for j in np.flatnonzero(~taken)
        if cand[j, 4] <= cut or _has_tied_neighbour(cand, int(j), peak_window, cut_tolerance)
    )
    box_diff = max((float(np.abs(ref[i, :4] - cand[j, :4]).max()) for i, j, _ in pairs), default=0.0)
    score_diff = max((abs(float(ref[i, 4] - cand[j, 4])) for i, j, _ in pairs), default=0.0)
    return MatchResult(
        reference=len(ref),
        candidate=len(cand),
        matched=len(pairs),
        unmatched_reference=unmatched_ref,
        unmatched_candidate=len(left) - excused_cand,
        excused=excused + excused_cand,
        max_box_diff=box_diff,
        max_score_diff=score_diff,
        min_iou=min((iou for _, _, iou in pairs), default=1.0),
        max_abs_box=float(np.abs(ref[:, :4]).max()) if len(ref) else 0.0,
        max_abs_score=float(np.abs(ref[:, 4]).max()) if len(ref) else 0.0,
    )


def match_batches(pairs: Iterable[tuple[np.ndarray, np.ndarray]], **kwargs: float | int | None) -> MatchResult:
    """Sum of ``match_detections`` over images."""
    total = MatchResult()
    for ref, cand in pairs:
        total = total + match_detections(ref, cand, **kwargs)  # type: ignore[arg-type]
    return total
