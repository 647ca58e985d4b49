"""Accuracy-budgeted INT8: per-layer sensitivity, then keep the most sensitive layers in FP32.

1. Score the FP32 model on validation images the calibration did not use (COCO mAP or top-1, in points).
2. Quantize everything (both forms); if both are within ``max_drop``, done.
3. Sensitivity of each quantizable layer = the drop when *only* that layer is quantized.
4. Keep layers in FP32, most sensitive first, until both forms are within budget, or until
   ``max_kept`` layers are kept (default half: beyond that INT8 buys little): then the budget cannot be met.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.calib.cache import CalibCache
from objectix_edge.calib.quantize import Int8Form, QuantizeConfig, layer_nodes, load_model, quantize_from_cache
from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.spec import ModelSpec

Evaluator = Callable[[Path], float]  # artifact path → metric in points (higher is better)


@dataclass(frozen=True)
class BudgetConfig:
    max_drop: float
    max_kept: int | None = None  # layers that may stay FP32; None = half of the quantizable ones
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class BudgetResult:
    """Outcome of the search: metrics in points; ``kept`` are the layers left in FP32."""

    fp32_metric: float
    metrics: dict[str, float]  # form value → metric of the final file
    kept: tuple[str, ...]
    sensitivity: dict[str, float] = field(default_factory=dict)
    evaluations: int = 0

    @property
    def drop(self) -> float:
        return max(self.fp32_metric - m for m in self.metrics.values())

    def within(self, max_drop: float) -> bool:
        return self.drop <= max_drop


def make_evaluator(spec: ModelSpec, images_dir: Path, ann_file: Path) -> tuple[Evaluator, list[int]]:
    """Evaluator over a COCO validation folder (mAP×100 or top-1×100) and its image ids.

    The search evaluates dozens of candidate files on the same images, so the images are decoded and
    preprocessed once here (exactly as eval.detection / eval.classification do) and only inference
    and scoring run per candidate.
    """
    from objectix_edge.data.coco import load_coco

    source = load_coco(images_dir, ann_file, spec.category_names)
    evaluator = _DetectorEval(spec, source) if spec.task == Task.DETECT else _ClassifierEval(spec, source)
    return evaluator, list(source.image_ids)


class _DetectorEval:
    def __init__(self, spec: ModelSpec, source: Any, batch: int = 8) -> None:
        from objectix_edge.data.coco import read_image
        from objectix_edge.pipeline.preprocess import preprocess_detector_batch

        self.spec, self.source = spec, source
        self.batches = []
        for start in range(0, len(source.image_ids), batch):
            ids = source.image_ids[start : start + batch]
            x, boxes = preprocess_detector_batch([read_image(source.image_path(i)) for i in ids], spec)
            self.batches.append((ids, x, boxes))

    def __call__(self, path: Path) -> float:
        from objectix_edge.eval.detection import DEFAULT_CONF, coco_map, coco_results_for_image
        from objectix_edge.pipeline.postprocess import to_original
        from objectix_edge.runtime.ort_runner import OrtRunner

        results: list[dict[str, Any]] = []
        with OrtRunner(path, judge=True) as runner:
            name = runner.inputs()[0].name
            for ids, x, boxes in self.batches:
                dets = runner.infer({name: x})[self.spec.output_names[0]]
                for k, image_id in enumerate(ids):
                    rows = to_original(dets[k], boxes[k], DEFAULT_CONF)
                    results.extend(coco_results_for_image(rows, image_id, self.spec))  # the COCO results format
        return 100.0 * coco_map(self.source.coco, results, self.spec.category_ids).map


class _ClassifierEval:
    def __init__(self, spec: ModelSpec, source: Any, batch: int = 64) -> None:
        from objectix_edge.data.coco import read_image
        from objectix_edge.pipeline.preprocess import preprocess_rois

        label_of = {c.id: i for i, c in enumerate(spec.categories)}
        src_ids = [c.id for c in source.categories]
        feeds: list[dict[str, np.ndarray]] = []
        labels: list[int] = []
        for image_id in source.image_ids:  # the ROIs eval.classification scores: every known GT box
            t = source.targets(image_id)
            keep = [k for k, lab in enumerate(t.labels) if src_ids[int(lab)] in label_of]
            if keep:
                feeds.append(preprocess_rois(read_image(t.path), t.boxes[keep], spec))
                labels.extend(label_of[src_ids[int(t.labels[k])]] for k in keep)
        if not labels:
            raise InputError(f"{source.ann_file}: no validation box of the model's categories; pass other --val-data")
        self.spec, self.labels = spec, np.asarray(labels)
        merged = {k: np.concatenate([f[k] for f in feeds]) for k in feeds[0]}
        self.batches = [{k: v[i : i + batch] for k, v in merged.items()} for i in range(0, len(labels), batch)]

    def __call__(self, path: Path) -> float:
        from objectix_edge.runtime.ort_runner import OrtRunner

        with OrtRunner(path, judge=True) as runner:
            preds = [runner.infer(b)[self.spec.output_names[0]].argmax(1) for b in self.batches]
        return 100.0 * float(np.mean(np.concatenate(preds) == self.labels))


class _Search:
    """Writes candidate Q/DQ files into a scratch folder and evaluates them."""

    def __init__(self, model_path: Path, cache: CalibCache, evaluate: Evaluator, workdir: Path) -> None:
        self.model_path, self.cache, self.evaluate, self.workdir = model_path, cache, evaluate, workdir
        self.evaluations = 0

    def metric(self, form: Int8Form, config: QuantizeConfig) -> float:
        path = quantize_from_cache(
            self.model_path, self.cache, self.workdir / f"candidate.{form.value}.onnx", form, config
        )
        self.evaluations += 1
        return self.evaluate(path)

    def both(self, exclude: tuple[str, ...]) -> dict[str, float]:
        return {form.value: self.metric(form, QuantizeConfig(exclude=exclude)) for form in Int8Form}


def fit_budget(
    model_path: Path,
    cache: CalibCache,
    evaluate: Evaluator,
    config: BudgetConfig,
    on_step: Callable[[str], None] | None = None,
) -> BudgetResult:
    """Find the fewest FP32 layers (by sensitivity order) that bring both INT8 forms within budget."""
    if config.max_drop < 0:
        raise InputError(f"--max-drop must be ≥ 0 points, got {config.max_drop}")
    note = on_step or (lambda _msg: None)
    model_path = Path(model_path)
    candidates = [n for n in layer_nodes(load_model(model_path)) if n not in set(config.exclude)]
    with tempfile.TemporaryDirectory(prefix="objx-sens-") as tmp:
        search = _Search(model_path, cache, evaluate, Path(tmp))
        fp32 = evaluate(model_path)
        metrics = search.both(config.exclude)
        note(f"FP32 {fp32:.2f}, INT8 {_fmt(metrics)} (drop {fp32 - min(metrics.values()):.2f})")
        if fp32 - min(metrics.values()) <= config.max_drop:
            return BudgetResult(fp32, metrics, (), {}, search.evaluations)
        sensitivity = {}
        for i, node in enumerate(candidates):
            # The CPU form is the fast one to evaluate; both forms share the ranges that matter here.
            only = QuantizeConfig(exclude=config.exclude, only=(node,))
            sensitivity[node] = fp32 - search.metric(Int8Form.CPU, only)
            note(f"sensitivity {i + 1}/{len(candidates)} {node}: {sensitivity[node]:+.2f}")
        order = sorted(candidates, key=lambda n: (-sensitivity[n], candidates.index(n)))
        max_kept = config.max_kept if config.max_kept is not None else max(1, len(candidates) // 2)
        kept: tuple[str, ...] = ()
        for node in order[:max_kept]:
            kept = (*kept, node)
            metrics = search.both(config.exclude + kept)
            note(f"keep {len(kept)} layer(s) in FP32 → INT8 {_fmt(metrics)} (drop {fp32 - min(metrics.values()):.2f})")
            if fp32 - min(metrics.values()) <= config.max_drop:
                break
        return BudgetResult(fp32, metrics, kept, sensitivity, search.evaluations)


def _fmt(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in metrics.items())
