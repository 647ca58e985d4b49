"""What each precision must show against its PyTorch original (DESIGN.md, "Parity"), and the floors
below which an original is too weak to judge.

* FP32 reproduces the original: raw outputs within 1e-4 × max abs, identical detections (matched as
  sets) / 100 % top-1 agreement. Needs no statistics and no strong original.
* FP16 and INT8 are judged in two gates, agreement first (the original's outputs exist however weak it
  is), then the task metric with its 95 % interval. Limits are MLPerf's closed-division rule, relative
  to the original: FP16 keeps ≥ 99.7 % of its metric, INT8 ≥ 99 %.

The agreement minimums were set from measurements (``benchmarks/parity_table.py``, the README's table;
CPU class vnni, TensorRT form simulated). Healthy artifacts reach them with room: the demo's synthetic
detector on 400 unseen images, FP16 agreement mAP 99.8 / matched 100 %, INT8 95.9 (TensorRT form) and
97.6 (CPU form) / matched 99.7-99.8 %; a 1-epoch ResNet-50 ROI classifier on 430 coco-mini ROIs, FP16
top-1 agreement 100 %, INT8 93.7 % and 98.1 % (the first one left undecided at that sample). The broken
artifacts of the parity issue (a weak detector's INT8 forms matching 15 % of its detections, agreement mAP
0.5-1.8) fall far below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from objectix_edge.enums import Precision, Task
from objectix_edge.errors import InputError

# Fewer confident detections than this: agreement cannot be judged (the original finds almost nothing).
MIN_CONFIDENT_DETECTIONS = 50
# Task-metric floors (points): below them a relative drop limit is a fraction of noise.
MIN_REFERENCE_MAP = 5.0
MIN_REFERENCE_TOP1 = 20.0


@dataclass(frozen=True)
class Budget:
    """Limits for one (task, precision); None means the quantity is reported but not enforced.

    ``retention``: the share of the original's metric the artifact must keep (the drop limit is
    ``(1 - retention) × metric``, capped by ``max_drop_points`` when that is set, e.g. ``--max-drop``).
    ``min_agreement``: classifier top-1 agreement, or detector agreement mAP, in points.
    ``min_matched``: detector: % of the original's confident detections the artifact matches.
    """

    max_rel_diff: float | None = None  # raw output diff / max abs of the reference output
    exact: bool = False  # identical detections (matched as sets) / 100 % top-1 agreement
    retention: float | None = None
    max_drop_points: float | None = None
    min_agreement: float | None = None
    min_matched: float | None = None

    @property
    def statistical(self) -> bool:
        return self.retention is not None or self.max_drop_points is not None

    def drop_limit(self, reference_metric: float) -> float:
        """The largest drop (points) allowed for an original scoring ``reference_metric`` points."""
        limits = []
        if self.retention is not None:
            limits.append((1.0 - self.retention) * reference_metric)
        if self.max_drop_points is not None:
            limits.append(self.max_drop_points)
        return min(limits) if limits else float("inf")

    def with_max_drop(self, points: float | None) -> Budget:
        """The same budget with the drop also capped at ``points`` (None: unchanged)."""
        if points is None:
            return self
        if points < 0:
            raise InputError(f"--max-drop must be ≥ 0 points, got {points}")
        return replace(self, max_drop_points=points)


BUDGETS: Mapping[tuple[Task, Precision], Budget] = {
    (Task.DETECT, Precision.FP32): Budget(max_rel_diff=1e-4, exact=True),
    (Task.ROI_CLASSIFY, Precision.FP32): Budget(max_rel_diff=1e-4, exact=True),
    (Task.CLASSIFY, Precision.FP32): Budget(max_rel_diff=1e-4, exact=True),
    (Task.DETECT, Precision.FP16): Budget(retention=0.997, min_agreement=95.0, min_matched=98.0),
    (Task.ROI_CLASSIFY, Precision.FP16): Budget(retention=0.997, min_agreement=99.0),
    (Task.CLASSIFY, Precision.FP16): Budget(retention=0.997, min_agreement=99.0),
    (Task.DETECT, Precision.INT8): Budget(retention=0.99, min_agreement=70.0, min_matched=90.0),
    (Task.ROI_CLASSIFY, Precision.INT8): Budget(retention=0.99, min_agreement=95.0),
    (Task.CLASSIFY, Precision.INT8): Budget(retention=0.99, min_agreement=95.0),
}


def budget_for(task: Task, precision: Precision) -> Budget:
    if (task, precision) not in BUDGETS:
        raise InputError(f"no parity budget for a {precision.value} {task.value} model")
    return BUDGETS[(task, precision)]


@dataclass(frozen=True)
class BudgetCheck:
    """One exactness quantity: its value, its limit, and whether it is within (``value <= limit``)."""

    name: str
    value: float
    limit: float
    unit: str = ""

    @property
    def passed(self) -> bool:
        return self.value <= self.limit

    def describe(self) -> str:
        rel = f" ({self.value / self.limit:.3g}× the limit)" if self.limit > 0 else ""
        if self.passed:
            return f"{self.name} {self.value:.4g}{self.unit} ≤ {self.limit:.4g}{self.unit}"
        over = self.value - self.limit
        value, limit = f"{self.value:.4g}{self.unit}", f"{self.limit:.4g}{self.unit}"
        return f"{self.name} {value} exceeds {limit} by {over:.4g}{self.unit}{rel}"
