"""Match two detectors' outputs as sets (same class, best IoU), never row by row.

TopK returns tied scores in any order, so the same detections can sit in different rows in PyTorch
and ONNX Runtime (DESIGN.md pitfalls). Rows are matched greedily from the highest reference score.
Some unmatched rows are *excused*, not counted as differences, because a discrete decision of the
decode (which of two near-equal scores wins) flips with one ulp of float rounding:
- a row at the TopK cut (score within the tolerance of the last kept score of a full output) or at the
  score floor (it may sit just below the floor in the other output);
- a row with a same-class neighbour in its own output whose centre lies within ``peak_window`` pixels
  and whose score ties with it: two heatmap cells of equal value, so the 3×3 max-pool peak test keeps
  both in one backend and one in the other (seen on letterbox padding, where the heatmap is flat);
- a *flipped peak pair*: a reference row and a candidate row left unmatched, of the same class, whose
  centres lie within one output stride in each axis and whose scores tie: two adjacent cells whose
  order swapped between backends, so each kept its own cell (and its own box size). Counted apart
  (``flipped_pairs``) so a report shows how many.
A tie is a score difference within ``cut_tolerance + rel_tolerance × score``: absolute alone is too
strict for high scores and too loose for the low ones a trained heatmap's tail is made of.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CUT_TOLERANCE = 1e-5  # absolute part of a score tie
REL_TOLERANCE = 1e-4  # relative part: the FP32 budget's raw-output tolerance (eval/budgets.py)


@dataclass(frozen=True)
class MatchResult:
    """Counts and worst-case differences of matched rows (boxes in input pixels)."""

    reference: int = 0
    candidate: int = 0
    matched: int = 0
    unmatched_reference: int = 0
    unmatched_candidate: int = 0
    excused: int = 0
    flipped_pairs: int = 0
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
            self.flipped_pairs + other.flipped_pairs,
            max(self.max_box_diff, other.max_box_diff),
            max(self.max_score_diff, other.max_score_diff),
            min(self.min_iou, other.min_iou),
            max(self.max_abs_box, other.max_abs_box),
            max(self.max_abs_score, other.max_abs_score),
        )


@dataclass(frozen=True)
class Tie:
    """When two scores count as equal: ``|a - b| <= absolute + relative × max(|a|, |b|)``."""

    absolute: float = CUT_TOLERANCE
    relative: float = REL_TOLERANCE

    def of(self, score: float | np.ndarray) -> float | np.ndarray:
        return self.absolute + self.relative * np.abs(score)

    def ties(self, a: float | np.ndarray, b: float | np.ndarray) -> bool | np.ndarray:
        return np.abs(np.asarray(a) - b) <= self.of(np.maximum(np.abs(a), np.abs(b)))


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


def _centres(rows: np.ndarray) -> np.ndarray:
    return (rows[:, :2] + rows[:, 2:4]) / 2


def _cut_score(rows: np.ndarray, capacity: int | None) -> float:
    """Lowest kept score when the output is full (TopK cut), else -inf (nothing was cut)."""
    if capacity is None or len(rows) < capacity or len(rows) == 0:
        return -np.inf
    return float(rows[:, 4].min())


def _has_tied_neighbour(rows: np.ndarray, i: int, window: float, tie: Tie) -> bool:
    """Whether another same-class row of ``rows`` is a neighbouring heatmap cell with a tied score."""
    if window <= 0:
        return False
    centres = _centres(rows)
    near = np.all(np.abs(centres - centres[i]) <= window * 1.5, axis=1)
    tied = (rows[:, 5] == rows[i, 5]) & tie.ties(rows[:, 4], rows[i, 4]) & near
    tied[i] = False
    return bool(tied.any())


def _flipped_pairs(ref: np.ndarray, cand: np.ndarray, window: float, tie: Tie) -> list[tuple[int, int]]:
    """Pairs (reference row, candidate row) of unmatched rows that are one peak moved to the adjacent cell.

    Same class, centres within ``window`` (the output stride) in each axis, tied scores; each row is
    used once, the closest scores paired first.
    """
    if window <= 0 or not len(ref) or not len(cand):
        return []
    near = np.all(np.abs(_centres(ref)[:, None, :] - _centres(cand)[None, :, :]) <= window, axis=2)
    gap = np.abs(ref[:, None, 4] - cand[None, :, 4])
    ok = near & (ref[:, None, 5] == cand[None, :, 5]) & tie.ties(ref[:, None, 4], cand[None, :, 4])
    pairs: list[tuple[int, int]] = []
    used_r, used_c = set(), set()
    for flat in np.argsort(np.where(ok, gap, np.inf), axis=None, kind="stable"):
        i, j = divmod(int(flat), len(cand))
        if not ok[i, j]:
            break
        if i not in used_r and j not in used_c:
            pairs.append((i, j))
            used_r.add(i)
            used_c.add(j)
    return pairs


def greedy_pairs(ref: np.ndarray, cand: np.ndarray, iou_threshold: float) -> list[tuple[int, int, float]]:
    """Each reference row (highest score first) takes its best-IoU untaken same-class candidate."""
    taken = np.zeros(len(cand), dtype=bool)
    pairs: list[tuple[int, int, float]] = []
    for i, row in enumerate(ref):
        same_class = np.flatnonzero((cand[:, 5] == row[5]) & ~taken)
        if not len(same_class):
            continue
        ious = iou_matrix(row[None, :4], cand[same_class, :4])[0]
        k = int(np.argmax(ious))
        if ious[k] >= iou_threshold:
            taken[same_class[k]] = True
            pairs.append((i, int(same_class[k]), float(ious[k])))
    return pairs


def match_detections(
    reference: np.ndarray,
    candidate: np.ndarray,
    iou_threshold: float = 0.5,
    score_floor: float = 0.0,
    capacity: int | None = None,
    cut_tolerance: float = CUT_TOLERANCE,
    peak_window: float = 0.0,
    rel_tolerance: float = REL_TOLERANCE,
    flipped_peaks: bool = True,
) -> MatchResult:
    """Match one image's ``[K, 6]`` rows (x1, y1, x2, y2, score, class) with score > ``score_floor``.

    ``capacity`` is max_det: when an output holds that many live rows, its lowest score is the TopK cut.
    ``peak_window`` is the detector's output stride in input pixels (0 disables the neighbour and
    flipped-peak rules); ``flipped_peaks=False`` keeps the neighbour rule alone (benchmarks/fp32_parity_seeds.py
    compares the two).
    """
    tie = Tie(cut_tolerance, rel_tolerance)
    ref = np.asarray(reference, np.float64)
    cand = np.asarray(candidate, np.float64)
    ref, cand = ref[ref[:, 4] > score_floor], cand[cand[:, 4] > score_floor]
    ref = ref[np.argsort(-ref[:, 4], kind="stable")]
    # Rows within the tolerance of the TopK cut or of the score floor may fall on either side of it.
    cut = max(_cut_score(ref, capacity), _cut_score(cand, capacity), score_floor)
    cut += float(tie.of(cut)) if np.isfinite(cut) else 0.0
    pairs = greedy_pairs(ref, cand, iou_threshold)

    def left(rows: np.ndarray, paired: set[int]) -> tuple[list[int], int]:
        """Unmatched rows not excused by the cut or a tied neighbour, and how many were excused."""
        loose = [k for k in range(len(rows)) if k not in paired]
        kept = [k for k in loose if not (rows[k, 4] <= cut or _has_tied_neighbour(rows, k, peak_window, tie))]
        return kept, len(loose) - len(kept)

    left_ref, excused_ref = left(ref, {i for i, _, _ in pairs})
    left_cand, excused_cand = left(cand, {j for _, j, _ in pairs})
    flips = _flipped_pairs(ref[left_ref], cand[left_cand], peak_window, tie) if flipped_peaks else []
    box_diff = max((float(np.abs(ref[i, :4] - cand[j, :4]).max()) for i, j, _ in pairs), default=0.0)
    score_diff = max((abs(float(ref[i, 4] - cand[j, 4])) for i, j, _ in pairs), default=0.0)
    return MatchResult(
        reference=len(ref),
        candidate=len(cand),
        matched=len(pairs),
        unmatched_reference=len(left_ref) - len(flips),
        unmatched_candidate=len(left_cand) - len(flips),
        excused=excused_ref + excused_cand,
        flipped_pairs=len(flips),
        max_box_diff=box_diff,
        max_score_diff=score_diff,
        min_iou=min((iou for _, _, iou in pairs), default=1.0),
        max_abs_box=float(np.abs(ref[:, :4]).max()) if len(ref) else 0.0,
        max_abs_score=float(np.abs(ref[:, 4]).max()) if len(ref) else 0.0,
    )
