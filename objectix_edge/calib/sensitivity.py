"""Accuracy-budgeted INT8: per-layer sensitivity, then keep the most sensitive layers in FP32 until PASS.

1. Run the FP32 file on validation images the calibration did not use: its outputs are the reference.
2. Quantize everything (both forms) and judge each against the reference as ``parity`` does (agreement,
   then the drop's 95 % interval against the INT8 limit, capped by ``--max-drop``). Both PASS: done.
3. Sensitivity of each quantizable layer = the metric lost when *only* that layer is quantized (on the
   first 128 images: it only ranks the layers).
4. Keep layers in FP32, most sensitive first, until both forms PASS, until nothing is lost any more (every
   drop estimate ≤ 0: only more images can decide), until PATIENCE layers in a row bring no improvement,
   or until ``max_kept`` layers are kept (default half: beyond that INT8 buys little). Without a PASS the
   best configuration found is kept: FAIL when even it fails, INCONCLUSIVE (with the images that would
   decide) when the set cannot tell.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from objectix_edge.calib.candidate_eval import CandidateEvaluator
from objectix_edge.calib.quantize import QuantizeConfig, layer_nodes, load_model, quantize_from_cache
from objectix_edge.enums import Int8Form
from objectix_edge.eval.budgets import Budget
from objectix_edge.eval.verdict import Evidence, Judgement, Verdict, statistical_judgement
from objectix_edge.export.calib_cache import CalibCache

PATIENCE = 3  # layers kept in a row without improving the worst drop bound before the search stops
RANKING_BATCHES = 16  # per-layer sensitivity only ranks layers: the first 16 batches (128 images) suffice


@dataclass(frozen=True)
class BudgetConfig:
    budget: Budget  # the INT8 budget, its drop capped by --max-drop
    max_kept: int | None = None  # layers that may stay FP32; None = half of the quantizable ones
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One configuration (layers kept FP32) with both forms' metric, evidence and judgement."""

    kept: tuple[str, ...]
    metrics: dict[str, float]
    evidence: dict[str, Evidence]
    judgements: dict[str, Judgement]

    @property
    def verdict(self) -> Verdict:
        verdicts = {j.verdict for j in self.judgements.values()}
        if Verdict.FAIL in verdicts:
            return Verdict.FAIL
        return Verdict.PASS if verdicts == {Verdict.PASS} else Verdict.INCONCLUSIVE

    @property
    def worst_drop_bound(self) -> float:
        return max(e.labelled_drop.high for e in self.evidence.values())

    def undecidable(self, budget: Budget) -> bool:
        """No choice of layers can decide it: the original is too weak, or nothing is lost any more (every
        drop estimate ≤ 0, agreement at its minimum) and only the sample's size keeps a bound across the
        limit: more FP32 layers cannot lower the estimates further, and they do not narrow the intervals."""
        if any(e.too_weak or e.weak_metric for e in self.evidence.values()):
            return True
        return self.verdict == Verdict.INCONCLUSIVE and all(_nothing_lost(e, budget) for e in self.evidence.values())


@dataclass(frozen=True)
class BudgetResult:
    """Outcome of the search: metrics in points; the chosen candidate's ``kept`` layers stay FP32."""

    fp32_metric: float
    chosen: Candidate
    sensitivity: dict[str, float] = field(default_factory=dict)
    evaluations: int = 0

    @property
    def metrics(self) -> dict[str, float]:
        return self.chosen.metrics

    @property
    def kept(self) -> tuple[str, ...]:
        return self.chosen.kept

    @property
    def verdict(self) -> Verdict:
        return self.chosen.verdict

    @property
    def drop(self) -> float:
        return max(self.fp32_metric - m for m in self.metrics.values())

    @property
    def images_needed(self) -> int | None:
        needed = [j.images_needed for j in self.chosen.judgements.values() if j.images_needed]
        return max(needed) if needed else None

    def summary(self) -> str:
        return "; ".join(f"{form} {j.message()}" for form, j in self.chosen.judgements.items())


class _Search:
    """Writes candidate Q/DQ files into a scratch folder, runs and judges them against the FP32 outputs."""

    def __init__(
        self, model_path: Path, cache: CalibCache, evaluator: CandidateEvaluator, config: BudgetConfig, workdir: Path
    ) -> None:
        self.model_path, self.cache, self.evaluator, self.config, self.workdir = (
            model_path,
            cache,
            evaluator,
            config,
            workdir,
        )
        self.reference: Any = evaluator.outputs(model_path)
        self.fp32 = evaluator.metric(self.reference)
        self.fp32_ranking = evaluator.metric(evaluator.outputs(model_path, RANKING_BATCHES))
        self.evaluations = 0

    def _file(self, form: Int8Form, config: QuantizeConfig) -> Path:
        self.evaluations += 1
        out = self.workdir / f"candidate.{form.value}.onnx"
        return quantize_from_cache(self.model_path, self.cache, out, form, config)

    def sensitivity(self, form: Int8Form, config: QuantizeConfig) -> float:
        """Metric lost on the ranking images when only ``config``'s layers are quantized."""
        outputs = self.evaluator.outputs(self._file(form, config), RANKING_BATCHES)
        return self.fp32_ranking - self.evaluator.metric(outputs)

    def candidate(self, kept: tuple[str, ...]) -> Candidate:
        metrics, evidence, judgements = {}, {}, {}
        for form in Int8Form:
            outputs = self.evaluator.outputs(self._file(form, QuantizeConfig(exclude=self.config.exclude + kept)))
            metrics[form.value] = self.evaluator.metric(outputs)
            evidence[form.value] = self.evaluator.evidence(self.reference, outputs)
            judgements[form.value] = statistical_judgement(self.config.budget, evidence[form.value])
        return Candidate(kept, metrics, evidence, judgements)


def _nothing_lost(evidence: Evidence, budget: Budget) -> bool:
    gates = [(evidence.agreement, budget.min_agreement), (evidence.matched, budget.min_matched)]
    if any(i is not None and m is not None and i.value < m for i, m in gates):
        return False
    return evidence.labelled_drop.value <= 0.0


def _better(a: Candidate, b: Candidate) -> Candidate:
    """The configuration to keep when none passes: not FAIL first, then the lower worst drop bound."""

    def key(c: Candidate) -> tuple[bool, float, int]:
        return (c.verdict == Verdict.FAIL, c.worst_drop_bound, len(c.kept))

    return min(a, b, key=key)


def fit_budget(
    model_path: Path,
    cache: CalibCache,
    evaluator: CandidateEvaluator,
    config: BudgetConfig,
    on_step: Callable[[str], None] | None = None,
) -> BudgetResult:
    """Find the fewest FP32 layers (by sensitivity order) with which both INT8 forms PASS."""
    note = on_step or (lambda _msg: None)
    model_path = Path(model_path)
    candidates = [n for n in layer_nodes(load_model(model_path)) if n not in set(config.exclude)]
    with tempfile.TemporaryDirectory(prefix="objx-sens-") as tmp:
        search = _Search(model_path, cache, evaluator, config, Path(tmp))
        first = search.candidate(())
        note(f"FP32 {search.fp32:.2f}, INT8 {_fmt(first)}")
        if first.verdict == Verdict.PASS or first.undecidable(config.budget):
            return BudgetResult(search.fp32, first, {}, search.evaluations)
        sensitivity = {}
        for i, node in enumerate(candidates):
            # The CPU form is the fast one to evaluate; both forms share the ranges that matter here.
            only = QuantizeConfig(exclude=config.exclude, only=(node,))
            sensitivity[node] = search.sensitivity(Int8Form.CPU, only)
            note(f"sensitivity {i + 1}/{len(candidates)} {node}: {sensitivity[node]:+.2f}")
        order = sorted(candidates, key=lambda n: (-sensitivity[n], candidates.index(n)))
        max_kept = config.max_kept if config.max_kept is not None else max(1, len(candidates) // 2)
        best = first
        kept: tuple[str, ...] = ()
        stale = 0  # steps since the worst drop bound last improved
        for node in order[:max_kept]:
            kept = (*kept, node)
            current = search.candidate(kept)
            note(f"keep {len(kept)} layer(s) in FP32 → INT8 {_fmt(current)}")
            if current.verdict == Verdict.PASS or current.undecidable(config.budget):
                return BudgetResult(search.fp32, current, sensitivity, search.evaluations)
            improved = _better(best, current) is current
            best = current if improved else best
            stale = 0 if improved else stale + 1
            if stale == PATIENCE:  # the less sensitive layers left do not move the bound any more
                break
        return BudgetResult(search.fp32, best, sensitivity, search.evaluations)


def _fmt(candidate: Candidate) -> str:
    return ", ".join(
        f"{form} {candidate.metrics[form]:.2f} (drop ≤ {candidate.evidence[form].labelled_drop.high:.2f}, {j.verdict.value})"
        for form, j in candidate.judgements.items()
    )
