"""What the cascade's second stage did over a run: classifier requests, drops, latency and label age.

Memory stays flat on a run of days: latencies keep their last ``KEEP`` samples and label ages are a histogram.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from objectix_edge.enums import SecondStageMode

KEEP = 20_000  # samples per stage behind the percentiles (the most recent ones)


@dataclass(frozen=True)
class ClassifierSummary:
    """What the second stage did. ``mode``: every box (no tracking), tracked (in the inference thread) or
    async (own worker). ``requests``: classifier batches asked for (one per frame with ROIs due);
    dropped ones were pushed out of the full queue unanswered; ``unfinished``: still queued at the end.
    ``latency_ms``: submission → answer; ``label_age``: frames between a shown label's frame and the
    frame it is shown on (p50, p95, max)."""

    mode: SecondStageMode
    requests: int
    answered: int
    rois: int
    dropped_requests: int
    dropped_rois: int
    unfinished: int
    latency_ms_p50: float
    latency_ms_p95: float
    label_age_p50: float
    label_age_p95: float
    label_age_max: int
    labels_shown: int
    tracks_closed: int


class ClassifierStats:
    """Counters of the second stage; written by the inference thread only, read after it ended."""

    def __init__(self, mode: SecondStageMode) -> None:
        self.mode = mode
        self.requests = self.answered = self.rois = 0
        self.dropped_requests = self.dropped_rois = self.unfinished = 0
        self.tracks_closed = 0
        self.latency_ms: collections.deque[float] = collections.deque(maxlen=KEEP)
        # Label ages are small integers: a histogram keeps memory flat on a run of days.
        self.label_ages: collections.Counter[int] = collections.Counter()

    def summary(self) -> ClassifierSummary:
        lat = np.percentile(self.latency_ms, [50, 95]) if self.latency_ms else (0.0, 0.0)
        ages = _hist_percentiles(self.label_ages, (50, 95))
        return ClassifierSummary(
            mode=self.mode,
            requests=self.requests,
            answered=self.answered,
            rois=self.rois,
            dropped_requests=self.dropped_requests,
            dropped_rois=self.dropped_rois,
            unfinished=self.unfinished,
            latency_ms_p50=float(lat[0]),
            latency_ms_p95=float(lat[1]),
            label_age_p50=ages[0],
            label_age_p95=ages[1],
            label_age_max=max(self.label_ages, default=0),
            labels_shown=sum(self.label_ages.values()),
            tracks_closed=self.tracks_closed,
        )


def _hist_percentiles(hist: collections.Counter[int], qs: tuple[float, ...]) -> tuple[float, ...]:
    """Percentiles (numpy's default linear interpolation) of the values a histogram counts."""
    if not hist:
        return tuple(0.0 for _ in qs)
    values = np.repeat(np.array(sorted(hist), dtype=np.float64), [hist[k] for k in sorted(hist)])
    return tuple(float(v) for v in np.percentile(values, qs))
