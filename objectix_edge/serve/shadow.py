"""Shadow mode: the original (or any second detector) re-checks the deployed one on a live source.

Every ``every``-th processed frame goes, with the deployed detector's rows, to a worker thread with a
bounded queue (oldest request dropped when full, and counted), so the main loop never waits. The
worker runs the shadow on the frame and counts, as parity does, how many of the shadow's confident
detections (score ≥ budgets.AGREEMENT_CONF) the deployed detector found (same class, IoU ≥ 0.5, against
its rows down to the tracker's floor). Agreement is that share with a two-sided 95% interval: a block
bootstrap over the checked frames (neighbouring frames are not independent), widened to Clopper–Pearson.
The verdict: "agrees" when the lower bound reaches the artifact's minimum (its precision's matched minimum,
eval/budgets.py; FP32 files are held to FP16's 98%), "disagrees" when the upper bound is under it, else
"not enough frames yet" — also while the shadow has made fewer than MIN_CONFIDENT_DETECTIONS confident
detections, exactly as parity calls an original too weak to judge.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from objectix_edge.cascade.classify_worker import BoundedWorker
from objectix_edge.enums import Precision, Task
from objectix_edge.errors import InputError
from objectix_edge.eval.budgets import MIN_CONFIDENT_DETECTIONS, budget_for
from objectix_edge.eval.inference import detect_frames
from objectix_edge.eval.matching import greedy_pairs
from objectix_edge.eval.uncertainty import (
    Interval,
    block_bootstrap_weights,
    block_length,
    share_interval,
    with_exact_bounds,
)
from objectix_edge.modelio.postprocess import AGREEMENT_CONF
from objectix_edge.runtime.base import Runner

IOU = 0.5
FP32_MINIMUM = 98.0  # % matched: an FP32 file should reproduce its original; this allows ulp-level flips
AGREES, DISAGREES, UNDECIDED = "agrees", "disagrees", "not enough frames yet"


@dataclass(frozen=True)
class ShadowConfig:
    """``every``: check every K-th processed frame; ``capacity``: requests queued before the oldest drops;
    ``segment_s``: also give a verdict every this many seconds (None: at the end only). On a live source
    the main loop never waits for the shadow; on a file (``live=False``) every K-th frame is checked."""

    every: int = 10
    capacity: int = 2
    segment_s: float | None = None
    live: bool = True  # a file read as fast as it decodes: wait for the shadow instead of dropping (no drops)

    def __post_init__(self) -> None:
        if self.every < 1:
            raise InputError(f"--shadow-every must be at least 1, got {self.every}")
        if self.segment_s is not None and self.segment_s <= 0:
            raise InputError(f"--segment-seconds must be positive for shadow verdicts, got {self.segment_s}")


@dataclass(frozen=True)
class _Request:
    frame: int
    image: np.ndarray
    rows: np.ndarray  # the deployed detector's rows (original pixels, score ≥ its floor)
    submitted_at: float


@dataclass(frozen=True)
class ShadowCheck:
    """One checked frame: the shadow's confident detections and how many the deployed detector found."""

    frame: int
    confident: int
    matched: int
    latency_ms: float

    def record(self) -> dict[str, Any]:
        return {"frame": self.frame, "confident": self.confident, "matched": self.matched}


@dataclass(frozen=True)
class ShadowVerdict:
    state: str  # AGREES, DISAGREES or UNDECIDED
    frames: int  # frames checked
    confident: int
    matched: int
    agreement: Interval | None  # matched share, %
    minimum: float
    block: int
    at_s: float  # seconds into the run

    def describe(self) -> str:
        share = "—" if self.agreement is None else self.agreement.describe(" %")
        return (
            f"shadow: the deployed detector {self.state} with the shadow on {self.frames} checked frames "
            f"(matched {self.matched}/{self.confident} confident detections, {share} vs minimum {self.minimum:g} %)"
        )

    def record(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "frames": self.frames,
            "confident": self.confident,
            "matched": self.matched,
            "agreement": None if self.agreement is None else self.agreement.as_dict(),
            "minimum": self.minimum,
            "block_length": self.block,
            "at_s": round(self.at_s, 3),
        }


@dataclass(frozen=True)
class ShadowSummary:
    """Submitted, checked, dropped (pushed out of the full queue) and unfinished frames, latency, verdicts."""

    shadow: str
    every: int
    submitted: int
    checked: int
    dropped: int
    unfinished: int
    latency_ms_p50: float
    latency_ms_p95: float
    verdict: ShadowVerdict
    segments: tuple[ShadowVerdict, ...] = field(default_factory=tuple)


def shadow_minimum(deployed: Runner) -> float:
    """The matched share (%) the deployed detector must keep against the shadow."""
    precision = deployed.capabilities.precision
    if precision == Precision.FP32:
        return FP32_MINIMUM
    minimum = budget_for(Task.DETECT, precision).min_matched
    return FP32_MINIMUM if minimum is None else minimum


def frame_matches(truth: np.ndarray, rows: np.ndarray) -> int:
    """Of ``truth`` (the shadow's confident rows), how many a same-class row of ``rows`` covers at IoU ≥ 0.5."""
    if not len(truth) or not len(rows):
        return 0
    order = np.argsort(-truth[:, 4], kind="stable")  # highest score picks first, as parity's matching
    return len(greedy_pairs(truth[order], np.asarray(rows, np.float64), IOU))


class ShadowMonitor:
    """The shadow worker and its running agreement; fed and read by the inference thread only."""

    def __init__(self, shadow: Runner, deployed: Runner, config: ShadowConfig, fps: float = 0.0) -> None:
        if shadow.spec.task != Task.DETECT or deployed.spec.task != Task.DETECT:
            raise InputError(
                f"{shadow.path}: --shadow checks a detector against a detector; pass the original detector"
            )
        if shadow.spec.category_names != deployed.spec.category_names:
            raise InputError(
                f"{shadow.path}: its categories differ from the deployed detector's {deployed.path}; "
                "pass the original it was made from"
            )
        self.shadow, self.config, self.fps = shadow, config, fps
        self.minimum = shadow_minimum(deployed)
        self.started = time.perf_counter()
        self.submitted = self.dropped = 0
        self.checks: list[ShadowCheck] = []
        self.segments: list[ShadowVerdict] = []
        self._next_segment = config.segment_s
        self._seen = 0
        self._worker: BoundedWorker[_Request, ShadowCheck] = BoundedWorker(self._check, config.capacity, "objx-shadow")

    def _check(self, request: _Request) -> ShadowCheck:
        _, truth, _ = detect_frames(self.shadow, [request.image], AGREEMENT_CONF)[0]
        matched = frame_matches(np.asarray(truth, np.float64), request.rows)
        return ShadowCheck(request.frame, len(truth), matched, (time.perf_counter() - request.submitted_at) * 1e3)

    def offer(self, frame: int, image: np.ndarray, rows: np.ndarray) -> None:
        """Called for every processed frame; every ``every``-th is queued for the shadow (never waits)."""
        self._seen += 1
        if (self._seen - 1) % self.config.every:
            return
        self.submitted += 1
        request = _Request(frame, image, rows, time.perf_counter())
        self.dropped += len(self._worker.submit(request, wait=not self.config.live))

    def collect(self) -> tuple[list[ShadowCheck], ShadowVerdict | None]:
        """Checks finished since the last call, and a segment verdict when one fell due."""
        done = self._worker.take()
        self.checks.extend(done)
        segment = None
        elapsed = time.perf_counter() - self.started
        if self._next_segment is not None and elapsed >= self._next_segment:
            segment = self.verdict()
            self.segments.append(segment)
            self._next_segment += self.config.segment_s or 0.0
        return done, segment

    def verdict(self) -> ShadowVerdict:
        """Agreement so far, its interval, and the verdict."""
        checks = sorted(self.checks, key=lambda c: c.frame)  # consecutive checked frames form the blocks
        confident = np.asarray([c.confident for c in checks], np.float64)
        matched = np.asarray([c.matched for c in checks], np.float64)
        total, found = int(confident.sum()), int(matched.sum())
        at_s = time.perf_counter() - self.started
        block = block_length(len(checks), self.fps / self.config.every) if checks else 0
        if total == 0:
            return ShadowVerdict(UNDECIDED, len(checks), 0, 0, None, self.minimum, block, at_s)
        weights = block_bootstrap_weights(len(checks), block)
        agreement = with_exact_bounds(share_interval(matched, confident, weights), found, total)
        state = UNDECIDED
        if total >= MIN_CONFIDENT_DETECTIONS:
            state = AGREES if agreement.low >= self.minimum else DISAGREES if agreement.high < self.minimum else state
        return ShadowVerdict(state, len(checks), total, found, agreement, self.minimum, block, at_s)

    def close(self) -> ShadowSummary:
        """Stop the worker (the check in progress finishes) and sum up."""
        unfinished = len(self._worker.close(drain=not self.config.live))
        self.checks.extend(self._worker.take(raise_error=False))
        latency = np.asarray([c.latency_ms for c in self.checks]) if self.checks else np.zeros(1)
        return ShadowSummary(
            shadow=str(self.shadow.path),
            every=self.config.every,
            submitted=self.submitted,
            checked=len(self.checks),
            dropped=self.dropped,
            unfinished=unfinished,
            latency_ms_p50=float(np.percentile(latency, 50)),
            latency_ms_p95=float(np.percentile(latency, 95)),
            verdict=self.verdict(),
            segments=tuple(self.segments),
        )
