"""Intervals for parity verdicts: paired bootstrap over images, Clopper–Pearson bounds, sample sizes.

Every interval is two-sided at 95 %, so each of its bounds is a one-sided 97.5 % bound: a verdict that
uses the upper bound to PASS and the lower bound to FAIL is wrong at most 2.5 % of the time each way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
REPLICATES = 1000
SEED = 0


@dataclass(frozen=True)
class Interval:
    """A point estimate and its two-sided interval (same units)."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}

    def describe(self, unit: str = "") -> str:
        return f"{self.value:.3g}{unit} [{self.low:.3g}, {self.high:.3g}]"


def bootstrap_weights(groups: int, replicates: int = REPLICATES, seed: int = SEED) -> np.ndarray:
    """``replicates`` × ``groups`` resampling counts (a multinomial draw of ``groups`` from ``groups``).

    Counts, not indices, so a per-image accumulation is re-weighted instead of re-evaluated.
    """
    if groups < 1:
        raise ValueError("the bootstrap needs at least one image")
    rng = np.random.default_rng(seed)
    return rng.multinomial(groups, np.full(groups, 1.0 / groups), size=replicates).astype(np.float64)


def block_length(frames: int, frames_per_second: float = 0.0) -> int:
    """Block length for footage: the larger of ⌈√n⌉ and one second of the judged frames, at most n.

    Neighbouring frames show the same objects, so their agreement is not independent: resampling single
    frames would pretend to n independent looks and give intervals far too narrow. Objects stay in view
    for seconds, so a block spans at least one second of the frames judged; ⌈√n⌉ lets both the block
    length and the number of blocks grow with n, which the moving-block bootstrap needs to be consistent
    (Künsch 1989; Lahiri 2003, ch. 2).
    """
    if frames < 1:
        raise ValueError("the bootstrap needs at least one frame")
    return max(1, min(frames, max(math.ceil(math.sqrt(frames)), math.ceil(frames_per_second))))


def block_bootstrap_weights(frames: int, block: int, replicates: int = REPLICATES, seed: int = SEED) -> np.ndarray:
    """``replicates`` × ``frames`` counts of a circular block bootstrap: ⌈n / block⌉ blocks of ``block``
    consecutive frames (wrapping at the end, so every frame is drawn equally often) with replacement,
    cut to n frames. Same shape and use as ``bootstrap_weights``; ``block=1`` is the plain bootstrap."""
    if frames < 1 or block < 1:
        raise ValueError("the block bootstrap needs at least one frame and a block of at least one")
    rng = np.random.default_rng(seed)
    blocks = math.ceil(frames / block)
    starts = rng.integers(0, frames, size=(replicates, blocks))
    index = ((starts[:, :, None] + np.arange(block)) % frames).reshape(replicates, -1)[:, :frames]
    flat = index + frames * np.arange(replicates)[:, None]
    return np.bincount(flat.ravel(), minlength=replicates * frames).reshape(replicates, frames).astype(np.float64)


def percentile_interval(point: float, samples: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """The percentile bootstrap interval of ``samples`` around ``point`` (the estimate on the full sample)."""
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(np.asarray(samples, dtype=np.float64), [tail, 100.0 - tail])
    return Interval(float(point), float(min(low, point)), float(max(high, point)))


def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> Interval:
    """Exact binomial interval for a proportion (as a fraction), from the beta distribution's quantiles."""
    from scipy.stats import beta

    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes}/{trials}")
    alpha = 1.0 - confidence
    low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return Interval(successes / trials, low, high)


def share_interval(hits: np.ndarray, totals: np.ndarray, weights: np.ndarray) -> Interval:
    """The pooled share (%) Σhits / Σtotals per unit (image or frame) and its bootstrap interval over the
    rows of ``weights`` (replicates drawing no total at all are left out)."""
    hits, totals = np.asarray(hits, np.float64), np.asarray(totals, np.float64)
    drawn = weights @ totals
    samples = 100.0 * (weights @ hits) / np.maximum(drawn, 1e-12)
    return percentile_interval(100.0 * hits.sum() / totals.sum(), samples[drawn > 0])


def with_exact_bounds(interval: Interval, successes: int, trials: int) -> Interval:
    """A percentage interval widened to include the Clopper–Pearson interval of ``successes``/``trials``:
    when nothing (or everything) changed, a bootstrap has nothing to resample and collapses to a point."""
    exact = clopper_pearson(successes, trials)
    return Interval(interval.value, min(interval.low, 100.0 * exact.low), max(interval.high, 100.0 * exact.high))


def scaled_sample_size(current: int, interval: Interval, limit: float) -> int | None:
    """How many units (images) would put the interval's nearer bound on the far side of ``limit``,
    if its half-width shrinks as 1/sqrt(n) at the observed variance. None when the estimate sits on
    the limit (no sample size decides it)."""
    gap = abs(interval.value - limit)
    half = max(interval.high - interval.value, interval.value - interval.low)
    if gap <= 0:
        return None
    if half <= gap:
        return current
    return int(math.ceil(current * (half / gap) ** 2))


def clopper_pearson_trials_needed(rate: float, limit: float, confidence: float = CONFIDENCE) -> int | None:
    """Trials at which the Clopper–Pearson upper bound of an observed ``rate`` (fraction) falls to ``limit``.

    With 0 events: n = log(alpha/2) / log(1 - limit) (e.g. 460 for a limit of 0.8 %). None when the
    rate itself is at or above the limit.
    """
    if rate >= limit:
        return None
    low, high = 1, 1
    while clopper_pearson(round(rate * high), high, confidence).high > limit:
        low, high = high, high * 2
        if high > 10**8:
            return None
    while low < high:  # smallest n whose bound is within the limit
        mid = (low + high) // 2
        if clopper_pearson(round(rate * mid), mid, confidence).high > limit:
            low = mid + 1
        else:
            high = mid
    return high
