"""PASS / FAIL / INCONCLUSIVE from agreement and the task metric's interval (DESIGN.md, "Parity" 1-3).

PASS needs every bound on the right side: the drop's upper bound within its limit and agreement's lower
bound at its minimum. FAIL needs a bound on the wrong side: the drop's lower bound beyond the limit, or
agreement's upper bound under its minimum. Anything between is INCONCLUSIVE, with the number of images
that would decide it at the observed variance; so is an original too weak to judge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from objectix_edge.eval.budgets import Budget, BudgetCheck
from objectix_edge.eval.uncertainty import Interval, clopper_pearson_trials_needed, scaled_sample_size

NOT_JUDGED = "metric drop: not judged (no labels)"


class Verdict(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"


@dataclass(frozen=True)
class Evidence:
    """What a verdict is decided from (points, or % for ``matched``); None where it does not apply.

    ``flips``/``rois`` (classifiers): ROIs whose top-1 changed, of all; their Clopper–Pearson bound
    gives a sharper sample size than the generic 1/sqrt(n) scaling.
    """

    images: int
    reference_metric: float | None
    drop: Interval | None  # None: no labels (footage), the metric's drop is not judged
    agreement: Interval | None = None
    matched: Interval | None = None
    too_weak: str | None = None  # why the original cannot be judged at all (e.g. too few confident detections)
    weak_metric: str | None = None  # why its task metric is too low for a relative drop (agreement still judged)
    flips: int | None = None
    rois: int | None = None
    unit: str = "images"  # what ``images`` counts: images, or frames of footage (the resampling unit)

    @property
    def labelled_drop(self) -> Interval:
        """The drop, for callers that only ever judge labelled images (``calibrate --max-drop``)."""
        if self.drop is None:
            raise ValueError("this evidence comes from footage without labels: it has no metric drop")
        return self.drop


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reasons: tuple[str, ...]
    limit: float | None = None  # the drop limit, points
    images_needed: int | None = None
    unit: str = "images"  # the unit of ``images_needed`` (frames, on footage)

    @property
    def passed(self) -> bool:
        return self.verdict == Verdict.PASS

    def message(self) -> str:
        need = f"; about {self.images_needed} {self.unit} would decide it" if self.images_needed else ""
        return f"{self.verdict.value}: " + "; ".join(self.reasons) + need

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "limit_points": self.limit,
            "images_needed": self.images_needed,
            "unit": self.unit,
        }


def exactness_judgement(checks: Sequence[BudgetCheck], notes: Sequence[str] = ()) -> Judgement:
    """FP32: reproduce the original, no statistics (it never needs a strong original). ``notes`` say what
    was excused as a tie, so a PASS never hides how it was reached."""
    failed = [c.describe() for c in checks if not c.passed]
    if failed:
        return Judgement(Verdict.FAIL, (*failed, *notes))
    return Judgement(Verdict.PASS, (*(c.describe() for c in checks), *notes))


def _gates(budget: Budget, evidence: Evidence) -> list[tuple[str, str, Interval, float]]:
    """(state, reason, interval, minimum) of each agreement quantity; state is fail, pass or open."""
    out = []
    for name, interval, minimum, unit in (
        ("agreement", evidence.agreement, budget.min_agreement, " pt"),
        ("matched", evidence.matched, budget.min_matched, " %"),
    ):
        if interval is None or minimum is None:
            continue
        text = f"{name} {interval.describe(unit)} vs minimum {minimum:g}{unit}"
        state = "fail" if interval.high < minimum else ("pass" if interval.low >= minimum else "open")
        out.append((state, text, interval, minimum))
    return out


def statistical_judgement(budget: Budget, evidence: Evidence) -> Judgement:
    """FP16/INT8: agreement first, then the drop against ``budget.drop_limit``."""
    unit = evidence.unit
    if evidence.too_weak:
        return Judgement(Verdict.INCONCLUSIVE, (evidence.too_weak,), unit=unit)
    gates = _gates(budget, evidence)
    failed = [text for state, text, _, _ in gates if state == "fail"]
    if failed:
        return Judgement(Verdict.FAIL, tuple(failed), unit=unit)
    reasons = [text for _, text, _, _ in gates]
    open_gates = [(interval, minimum) for state, _, interval, minimum in gates if state == "open"]
    if evidence.drop is None or evidence.reference_metric is None:
        # Footage: agreement alone decides, on the same gates; the drop is said to be unjudged, not passed.
        reasons.append(NOT_JUDGED)
        if not open_gates:
            return Judgement(Verdict.PASS, tuple(reasons), unit=unit)
        return Judgement(Verdict.INCONCLUSIVE, tuple(reasons), None, _gates_needed(evidence, open_gates), unit)
    if evidence.weak_metric:
        return Judgement(Verdict.INCONCLUSIVE, (*reasons, evidence.weak_metric), unit=unit)
    limit = budget.drop_limit(evidence.reference_metric)
    reasons.append(f"drop {evidence.drop.describe(' pt')} vs limit {limit:.3g} pt")
    if evidence.drop.low > limit:
        return Judgement(Verdict.FAIL, (reasons[-1],), limit, unit=unit)
    if evidence.drop.high <= limit and not open_gates:
        return Judgement(Verdict.PASS, tuple(reasons), limit, unit=unit)
    needed = [_drop_needed(evidence, evidence.drop, limit)] if evidence.drop.high > limit else []
    needed += [_gates_needed(evidence, open_gates)]
    known = [n for n in needed if n is not None]
    return Judgement(Verdict.INCONCLUSIVE, tuple(reasons), limit, max(known) if known else None, unit)


def _gates_needed(evidence: Evidence, open_gates: list[tuple[Interval, float]]) -> int | None:
    known = [n for n in (scaled_sample_size(evidence.images, i, m) for i, m in open_gates) if n is not None]
    return max(known) if known else None


def _drop_needed(evidence: Evidence, drop: Interval, limit: float) -> int | None:
    options = [scaled_sample_size(evidence.images, drop, limit)]
    if evidence.flips is not None and evidence.rois:
        rois = clopper_pearson_trials_needed(evidence.flips / evidence.rois, limit / 100.0)
        options.append(None if rois is None else math.ceil(rois * evidence.images / evidence.rois))
    known = [n for n in options if n is not None]
    return min(known) if known else None


def weak_reference(metric: float, floor: float, name: str) -> str | None:
    """The reason an original scoring ``metric`` points is too weak for a relative drop, or None."""
    if metric < floor:
        return f"the original's {name} {metric:.3g} pt is below the {floor:g} pt floor: too weak to judge a drop"
    return None
