"""Counters and per-stage timings of a run, shared by the loop's threads, and the final summary.

Memory stays flat on a run of days: each stage keeps its count, sum and maximum over the whole run and
its last ``KEEP`` samples, from which the percentiles are taken.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from objectix_edge.cascade.classifier_stats import KEEP, ClassifierSummary

if TYPE_CHECKING:  # health.py builds on this module's Series: a runtime import would be a cycle
    from objectix_edge.stream.health import HealthSummary


class StopReason(str, Enum):
    """Why a run ended (``RunSummary.stopped_by``; its value is what summary.json records)."""

    END = "end"  # the source ran out
    MAX_FRAMES = "max-frames"
    USER = "user"  # q/Esc, or the window closed
    INTERRUPT = "interrupt"  # Ctrl-C
    ERROR = "error"


# Order in which stages are shown (others follow alphabetically).
STAGE_ORDER = (
    "capture",
    "wait",
    "preprocess",
    "detector",
    "postprocess",
    "track",
    "roi_crop",
    "classifier",
    "render",
    "sinks",
    "latency",
)


@dataclass(frozen=True)
class StageSummary:
    """Milliseconds of one stage: count, mean and max over the run; p50/p95 over its last KEEP samples."""

    count: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    max_ms: float


@dataclass(frozen=True)
class RunSummary:
    """What a run did: frame counts, throughput and per-stage timings (``latency`` = capture → sinks)."""

    source: str
    frames_in: int
    processed: int
    dropped: int
    skipped: int
    elapsed_s: float
    fps: float
    stages: dict[str, StageSummary]
    stopped_by: StopReason
    warnings: tuple[str, ...] = ()
    classifier: ClassifierSummary | None = None
    outputs: tuple[str, ...] = ()  # files written (set by run_pipeline)
    # --shadow: the original re-checking the deployed detector (serve/shadow.py's ShadowSummary; the
    # stream layer sits below serve, so it carries the summary without knowing its type)
    shadow: Any = None
    health: HealthSummary | None = None  # frame age, decode errors, reconnects, frozen picture, drift


class RunStats:
    """Thread-safe counters and timing samples; ``fps_now`` is over the last ``window`` outputs."""

    def __init__(self, window: int = 30) -> None:
        self.window = window
        self.frames_in = 0
        self.processed = 0
        self.started = time.perf_counter()
        self._samples: dict[str, Series] = collections.defaultdict(Series)
        self._recent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def count_in(self) -> None:
        with self._lock:
            self.frames_in += 1

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            self._samples[stage].append(ms)

    def add_all(self, timings_ms: dict[str, float]) -> None:
        with self._lock:
            for stage, ms in timings_ms.items():
                self._samples[stage].append(ms)

    def count_processed(self) -> None:
        now = time.perf_counter()
        with self._lock:
            self.processed += 1
            self._recent.append(now)
            while len(self._recent) > self.window:
                self._recent.popleft()

    def fps_now(self) -> float:
        with self._lock:
            if len(self._recent) < 2:
                return 0.0
            span = self._recent[-1] - self._recent[0]
            return (len(self._recent) - 1) / span if span > 0 else 0.0

    def last_ms(self) -> dict[str, float]:
        """The latest sample of every stage, for the overlay."""
        with self._lock:
            return {stage: series.recent[-1] for stage, series in self._samples.items() if series.recent}

    def summary(
        self,
        source: str,
        dropped: int,
        skipped: int,
        stopped_by: StopReason,
        warnings: tuple[str, ...] = (),
        classifier: ClassifierSummary | None = None,
    ) -> RunSummary:
        elapsed = time.perf_counter() - self.started
        with self._lock:
            stages = {name: series.summary() for name, series in self._samples.items() if series.count}
            processed, frames_in = self.processed, self.frames_in
        rank = {name: i for i, name in enumerate(STAGE_ORDER)}
        ordered = dict(sorted(stages.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))
        return RunSummary(
            source=source,
            frames_in=frames_in,
            processed=processed,
            dropped=dropped,
            skipped=skipped,
            elapsed_s=elapsed,
            fps=processed / elapsed if elapsed > 0 else 0.0,
            stages=ordered,
            stopped_by=stopped_by,
            warnings=warnings,
            classifier=classifier,
        )


class Series:
    """One stage's samples: count, sum and max of all, and the last KEEP values."""

    __slots__ = ("count", "max", "recent", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.max = float("-inf")
        self.recent: collections.deque[float] = collections.deque(maxlen=KEEP)

    def append(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.max = max(self.max, value)
        self.recent.append(value)

    def summary(self) -> StageSummary:
        p50, p95 = np.percentile(np.asarray(self.recent, dtype=np.float64), [50, 95])
        return StageSummary(self.count, self.total / self.count, float(p50), float(p95), self.max)
