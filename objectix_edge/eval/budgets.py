"""Accuracy budgets per precision (DESIGN.md table), and the checks that compare numbers with them.

An artifact is compared with its PyTorch FP32 original. FP32 must reproduce it (raw outputs within
1e-4 × max abs, identical detections / 100 % top-1 agreement); FP16 and INT8 may lose a little
accuracy (0.2 and 1.0 points of mAP or top-1). Later precisions plug in by adding a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from objectix_edge.enums import Precision, Task
from objectix_edge.errors import InputError


@dataclass(frozen=True)
class Budget:
    """Limits for one (task, precision); None means the quantity is reported but not enforced."""

    max_rel_diff: float | None = None  # raw output diff / max abs of the reference output
    exact: bool = False  # identical detections (matched as sets) / 100 % top-1 agreement
    max_drop_points: float | None = None  # accuracy drop vs the reference, in points (AP×100, top-1×100)


BUDGETS: Mapping[tuple[Task, Precision], Budget] = {
    (Task.DETECT, Precision.FP32): Budget(max_rel_diff=1e-4, exact=True),
    (Task.ROI_CLASSIFY, Precision.FP32): Budget(max_rel_diff=1e-4, exact=True),
    (Task.DETECT, Precision.FP16): Budget(max_drop_points=0.2),
    (Task.ROI_CLASSIFY, Precision.FP16): Budget(max_drop_points=0.2),
    (Task.DETECT, Precision.INT8): Budget(max_drop_points=1.0),
    (Task.ROI_CLASSIFY, Precision.INT8): Budget(max_drop_points=1.0),
}


def budget_for(task: Task, precision: Precision) -> Budget:
    if (task, precision) not in BUDGETS:
        raise InputError(f"no parity budget for a {precision.value} {task.value} model")
    return BUDGETS[(task, precision)]


@dataclass(frozen=True)
class BudgetCheck:
    """One enforced quantity: its value, its limit, and whether it is within (``value <= limit``)."""

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
