"""What ``parity`` reports: the measured quantities, the evidence with its intervals, and the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from objectix_edge.enums import Precision, Task
from objectix_edge.eval.budgets import Budget, BudgetCheck
from objectix_edge.eval.matching import MatchResult
from objectix_edge.eval.verdict import Evidence, Judgement, Verdict


@dataclass(frozen=True)
class DetectionParity:
    """Matched detections and differences (input pixels), mAP of each (points), agreement mAP against the
    original's detections with score ≥ budgets.AGREEMENT_CONF, and how many of those the artifact matched."""

    match: MatchResult
    rel_box_diff: float
    rel_score_diff: float
    map_reference: float | None  # None on footage: no labels
    map_artifact: float | None
    map_agreement: float
    confident_detections: int
    matched_confident: int


@dataclass(frozen=True)
class ClassifierParity:
    rois: int
    max_abs_diff: float
    max_abs_reference: float
    rel_diff: float
    max_prob_diff: float
    top1_reference: float | None  # None on footage: no labels
    top1_artifact: float | None
    agreement: float
    tied_flips: int = 0  # top-1s that differ on logits tied within parity.LOGIT_TIE (excused for FP32)


@dataclass(frozen=True)
class ParityReport:
    artifact: str
    reference: str
    task: Task
    precision: Precision
    backend: str
    images: int
    budget: Budget
    checks: tuple[BudgetCheck, ...]
    judgement: Judgement
    evidence: Evidence
    detection: DetectionParity | None = None
    classification: ClassifierParity | None = None
    int8_kernels: str | None = None  # how ONNX Runtime ran an INT8 file (runtime/int8_kernels.py)
    footage: dict[str, Any] | None = None  # judged on footage without labels: which file, frames, block length

    @property
    def verdict(self) -> Verdict:
        return self.judgement.verdict

    @property
    def passed(self) -> bool:
        return self.judgement.passed

    @property
    def message(self) -> str:
        return f"{self.precision.value} {self.judgement.message()}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["task"], data["precision"] = self.task.value, self.precision.value
        data["verdict"], data["passed"], data["message"] = self.verdict.value, self.passed, self.message
        data["judgement"] = self.judgement.as_dict()
        data["checks"] = [{**asdict(c), "passed": c.passed} for c in self.checks]
        return data
