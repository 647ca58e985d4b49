"""Per-camera health: how old results are, damaged frames, reconnects, a frozen picture, and drift.

* Frame age: capture → result reaching the outputs (p50/p95); per frame in the JSONL's ``timings_ms.age``.
* Frozen: the same picture (a checksum of a subsampled frame) for ``frozen_s`` seconds of capture (or
  media) time: a stuck encoder or a camera that stopped sending new frames. Warned once per episode.
* Drift: the distribution of confident detections per frame and of their scores against the ones the
  FP32 detector produced on the calibration frames (``DetectionProfile``, stored in the calibration
  cache), by the population stability index, PSI = Σ (a − e) · ln(a / e) over the bins. Rules of thumb
  from credit scoring (Siddiqi 2006; Yurdakul 2018): below 0.1 no real change, 0.1–0.25 a moderate shift
  worth watching, above 0.25 a major shift. We warn once above 0.25 and only after ``MIN_DRIFT_FRAMES``
  frames: a scene's counts vary from minute to minute (a queue forms, a bus passes), and 0.1 would fire
  on that; 0.25 means the camera now sees a different scene (moved, night, fog, a new layout) than the
  INT8 ranges were calibrated on, so re-calibrate and re-check parity on new footage.
"""

from __future__ import annotations

import collections
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from objectix_edge.modelio.postprocess import AGREEMENT_CONF
from objectix_edge.stream.run_stats import KEEP, Series
from objectix_edge.stream.sources import Frame

COUNT_EDGES = (0, 1, 2, 3, 5, 8, 13, 10**9)  # confident detections per frame: 0, 1, 2, 3-4, 5-7, 8-12, 13+
SCORE_EDGES = (AGREEMENT_CONF, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0 + 1e-9)
PSI_WATCH, PSI_WARN = 0.1, 0.25
MIN_DRIFT_FRAMES = 100
DRIFT_EVERY = 50  # frames between PSI updates (cheap, but there is no need to do it every frame)
PSI_EPS = 1e-4  # an empty bin counts as this share, so PSI stays finite


@dataclass(frozen=True)
class DetectionProfile:
    """Shares of frames by confident-detection count and of confident detections by score."""

    counts: tuple[float, ...]
    scores: tuple[float, ...]
    frames: int
    span_s: float = 0.0  # seconds of footage the frames were spread over

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": list(self.counts),
            "scores": list(self.scores),
            "frames": self.frames,
            "span_s": self.span_s,
            "conf": AGREEMENT_CONF,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectionProfile:
        return cls(tuple(data["counts"]), tuple(data["scores"]), int(data["frames"]), float(data.get("span_s", 0.0)))


def _shares(values: Iterable[float], edges: tuple[float, ...]) -> tuple[float, ...]:
    hist, _ = np.histogram(np.asarray(list(values), np.float64), bins=np.asarray(edges, np.float64))
    total = hist.sum()
    return tuple(float(v) for v in (hist / total if total else hist.astype(float)))


def profile(scores_per_frame: list[np.ndarray], span_s: float = 0.0) -> DetectionProfile:
    """The profile of frames given each frame's detection scores (all of them; confident ones are counted)."""
    confident = [s[s >= AGREEMENT_CONF] for s in scores_per_frame]
    counts = _shares((len(s) for s in confident), COUNT_EDGES)
    scores = _shares((float(v) for s in confident for v in s), SCORE_EDGES)
    return DetectionProfile(counts, scores, len(scores_per_frame), span_s)


def psi(expected: Iterable[float], actual: Iterable[float]) -> float:
    """Population stability index between two share vectors over the same bins."""
    e = np.maximum(np.asarray(list(expected), np.float64), PSI_EPS)
    a = np.maximum(np.asarray(list(actual), np.float64), PSI_EPS)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class HealthConfig:
    frozen_s: float = 10.0
    baseline: DetectionProfile | None = None  # the calibration frames' profile; None: drift not judged


@dataclass(frozen=True)
class HealthSummary:
    frame_age_ms_p50: float
    frame_age_ms_p95: float
    decode_errors: int
    reconnects: int
    frozen_episodes: int
    longest_frozen_s: float
    drift_psi_counts: float | None  # None: no calibration profile, or fewer than MIN_DRIFT_FRAMES frames
    drift_psi_scores: float | None
    drift_warned: bool


class HealthMonitor:
    """Fed by the output stage, one processed frame at a time (one thread)."""

    def __init__(
        self,
        source: str,
        config: HealthConfig = HealthConfig(),
        notify: Callable[[str], None] | None = None,
        fps: float = 0.0,
    ) -> None:
        self.source, self.config, self.fps = source, config, fps
        self._first_seen: float | None = None
        self.notify = notify or (lambda _m: None)
        self.ages = Series()  # the last KEEP ages: bounded on a camera that runs for days
        self._digest: int | None = None
        self._same_since: float | None = None
        self._in_episode = False
        self.frozen_episodes = 0
        self.longest_frozen_s = 0.0
        # Score vectors of the frames so far (the drift profile); a deque of the last KEEP frames, so a
        # long run compares its recent scene, not its whole history, with the calibration footage.
        self._scores: collections.deque[np.ndarray] = collections.deque(maxlen=KEEP)
        self._frames = 0
        self.psi_counts: float | None = None
        self.psi_scores: float | None = None
        self.drift_warned = False

    def update(self, frame: Frame, candidates: np.ndarray | None, age_ms: float) -> dict[str, Any]:
        """This frame's health fields (for the JSONL); warns once per frozen episode and once on drift.
        ``age_ms``: capture → result, recorded here for the summary."""
        self.ages.append(age_ms)
        frozen_s = self._frozen(frame)
        record: dict[str, Any] = {"frozen_s": round(frozen_s, 3)}  # the age goes with the timings
        if candidates is not None and self.config.baseline is not None:
            self._scores.append(np.asarray(candidates, np.float64).reshape(-1, 6)[:, 4])
            self._frames += 1
            if self._comparable(frame) and self._frames % DRIFT_EVERY == 0:
                record["drift"] = self._drift()
        return record

    def _comparable(self, frame: Frame) -> bool:
        """Enough footage seen to compare with the calibration profile: its span in seconds (frames / fps
        on a file or a camera with a known rate, else capture time) and MIN_DRIFT_FRAMES frames."""
        assert self.config.baseline is not None  # called only with a baseline
        if self._first_seen is None:
            self._first_seen = frame.timestamp
        seen_s = self._frames / self.fps if self.fps > 0 else frame.timestamp - self._first_seen
        return self._frames >= MIN_DRIFT_FRAMES and seen_s >= self.config.baseline.span_s

    def _frozen(self, frame: Frame) -> float:
        # A checksum of every 8th pixel: identical frames give identical sums; cheap at any resolution.
        digest = zlib.adler32(np.ascontiguousarray(frame.image[::8, ::8]).tobytes())
        now = frame.media_time if frame.media_time is not None else frame.timestamp
        if digest != self._digest or self._same_since is None:
            self._digest, self._same_since, self._in_episode = digest, now, False
            return 0.0
        still = now - self._same_since
        self.longest_frozen_s = max(self.longest_frozen_s, still)
        if still >= self.config.frozen_s and not self._in_episode:
            self._in_episode = True
            self.frozen_episodes += 1
            self.notify(f"{self.source}: the picture has not changed for {still:.0f} s (frozen camera or stream?)")
        return still

    def _drift(self) -> dict[str, float]:
        assert self.config.baseline is not None  # called only with a baseline
        now = profile(list(self._scores))
        self.psi_counts = psi(self.config.baseline.counts, now.counts)
        self.psi_scores = psi(self.config.baseline.scores, now.scores)
        worst = max(self.psi_counts, self.psi_scores)
        if worst > PSI_WARN and not self.drift_warned:
            self.drift_warned = True
            self.notify(
                f"{self.source}: detections drifted from the calibration footage (PSI counts {self.psi_counts:.2f}, "
                f"scores {self.psi_scores:.2f} > {PSI_WARN}): the scene changed; re-calibrate and re-check parity"
            )
        return {"psi_counts": round(self.psi_counts, 4), "psi_scores": round(self.psi_scores, 4)}

    def summary(self, decode_errors: int, reconnects: int) -> HealthSummary:
        if self.psi_counts is not None:
            self._drift()  # the final figure, once the run was comparable (warns only if it had not yet)
        ages = self.ages.summary() if self.ages.count else None
        return HealthSummary(
            frame_age_ms_p50=ages.p50_ms if ages else 0.0,
            frame_age_ms_p95=ages.p95_ms if ages else 0.0,
            decode_errors=decode_errors,
            reconnects=reconnects,
            frozen_episodes=self.frozen_episodes,
            longest_frozen_s=self.longest_frozen_s,
            drift_psi_counts=self.psi_counts,
            drift_psi_scores=self.psi_scores,
            drift_warned=self.drift_warned,
        )
