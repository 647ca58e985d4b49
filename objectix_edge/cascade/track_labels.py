"""Per-track classification: when a track is (re)classified, and its label as a running average.

The rule follows DeepStream's secondary classifiers (``secondary-reinfer-interval``): a track is
classified on the first frame it has an id, then every ``every`` frames after its last request, or
sooner when its box area has grown by ``area_growth`` since then (a closer view is worth a new look).
A track's label is the arg-max of the mean of all its probability vectors so far; the label records
the frame of the latest classification that went into it. A track with a request in flight (the
asynchronous worker) is not asked again until the answer arrives or the request is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from objectix_edge.errors import InputError
from objectix_edge.spec import Category


@dataclass(frozen=True)
class ReclassifyPolicy:
    """``every``: frames between classifications of one track (1: every frame); ``area_growth``: reclassify
    sooner when the box area reaches this multiple of its area at the last classification (0: never)."""

    every: int = 1
    area_growth: float = 1.5

    def __post_init__(self) -> None:
        if self.every < 1:
            raise InputError(f"--reclassify-every must be at least 1 frame, got {self.every}")
        if self.area_growth != 0 and self.area_growth <= 1.0:
            raise InputError(f"--area-growth must be above 1 (or 0 to disable), got {self.area_growth}")


@dataclass(frozen=True)
class RoiLabel:
    """The classifier's answer for one object: top-1 of its (averaged) probabilities, and the frame of the
    latest classification behind it; ``votes``: how many classifications were averaged."""

    class_index: int
    category_id: int
    name: str
    score: float
    frame: int | None = None
    votes: int = 1


def label_from(probs: np.ndarray, categories: Sequence[Category], frame: int | None, votes: int = 1) -> RoiLabel:
    """Top-1 of one probability vector."""
    c = int(np.argmax(probs))
    return RoiLabel(c, categories[c].id, categories[c].name, float(probs[c]), frame, votes)


def box_area(box: Sequence[float]) -> float:
    return max(0.0, float(box[2]) - float(box[0])) * max(0.0, float(box[3]) - float(box[1]))


@dataclass
class _Track:
    requested_frame: int
    requested_area: float
    pending: bool = True
    prob_sum: np.ndarray | None = None
    votes: int = 0
    label_frame: int | None = None


class TrackLabels:
    """Per-track state: which tracks are due, and their running-average labels. Used by one thread."""

    def __init__(self, policy: ReclassifyPolicy, categories: Sequence[Category]) -> None:
        self.policy = policy
        self.categories = categories
        self._tracks: dict[int, _Track] = {}

    def __len__(self) -> int:
        return len(self._tracks)

    def due(self, frame: int, track_ids: Sequence[int], boxes: Sequence[Sequence[float]]) -> list[int]:
        """Positions (into ``track_ids``) of the tracks to classify on ``frame``, in the order given."""
        out = []
        for i, (tid, box) in enumerate(zip(track_ids, boxes, strict=True)):
            if tid < 0:
                continue
            state = self._tracks.get(int(tid))
            if state is None:
                out.append(i)
                continue
            if state.pending:
                continue
            grown = self.policy.area_growth > 0 and box_area(box) >= self.policy.area_growth * state.requested_area
            if frame - state.requested_frame >= self.policy.every or grown:
                out.append(i)
        return out

    def requested(self, frame: int, track_ids: Sequence[int], boxes: Sequence[Sequence[float]]) -> None:
        """Note that these tracks were sent to the classifier on ``frame``."""
        for tid, box in zip(track_ids, boxes, strict=True):
            state = self._tracks.setdefault(int(tid), _Track(frame, box_area(box)))
            state.requested_frame, state.requested_area, state.pending = frame, box_area(box), True

    def dropped(self, track_ids: Sequence[int]) -> None:
        """Requests that will never be answered: the tracks are due again at once."""
        for tid in track_ids:
            state = self._tracks.get(int(tid))
            if state is not None:
                state.pending = False
                state.requested_frame = -(10**9)  # due at the next frame it is seen

    def answer(self, frame: int, track_ids: Sequence[int], probs: np.ndarray) -> None:
        """Fold the probabilities computed on ``frame`` into each track's running average."""
        for tid, p in zip(track_ids, probs, strict=True):
            state = self._tracks.get(int(tid))
            if state is None:  # closed while its request was in flight
                continue
            state.pending = False
            state.prob_sum = p.astype(np.float64) if state.prob_sum is None else state.prob_sum + p
            state.votes += 1
            state.label_frame = frame if state.label_frame is None else max(state.label_frame, frame)

    def label(self, track_id: int) -> RoiLabel | None:
        state = self._tracks.get(int(track_id))
        if state is None or state.prob_sum is None:
            return None
        return label_from(state.prob_sum / state.votes, self.categories, state.label_frame, state.votes)

    def close(self, track_ids: set[int]) -> None:
        """Forget closed tracks (bounded memory on a run of days)."""
        for tid in track_ids:
            self._tracks.pop(int(tid), None)
