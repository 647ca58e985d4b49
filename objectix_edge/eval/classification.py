"""Classifier evaluation (ROI and whole-image): standard figures, ObjectiX's own five, a confusion matrix PNG.

Standard definitions (rows of the confusion matrix are true classes, columns predictions):
- per-class accuracy: correct / support of each true class (its recall); per-class precision and F1;
- mean class accuracy: mean of per-class accuracy over classes with support;
- accuracy: correct / all samples (top-1);
- images_all_rois_correct: fraction of images whose ROIs are all classified correctly (this is *not*
  ObjectiX's "Mean Accuracy Images", which is ΣTP / Σsamples: see ``objectix_figures``);
- macro precision / recall / F1: unweighted means over classes seen in truth or predictions,
  a class never predicted counting precision 0 (as scikit-learn's zero_division=0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.data.classify import single_category_images
from objectix_edge.data.coco import CocoSource, load_coco
from objectix_edge.errors import InputError
from objectix_edge.eval.inference import classify, roi_batches, run_batch
from objectix_edge.fileio import atomic_path
from objectix_edge.modelio.preprocess import preprocess_image
from objectix_edge.runtime.base import Runner


@dataclass(frozen=True)
class ClassificationMetrics:
    """Figures as fractions in [0, 1]; ``confusion[i, j]`` counts true class i predicted as j."""

    per_class_accuracy: tuple[float, ...]
    mean_class_accuracy: float
    accuracy: float
    images_all_rois_correct: float
    precision: float
    recall: float
    f1: float
    confusion: np.ndarray
    samples: int
    per_class_precision: tuple[float, ...] = ()
    per_class_f1: tuple[float, ...] = ()

    def as_dict(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        names = list(names) if names else [str(i) for i in range(len(self.per_class_accuracy))]
        return {
            "per_class_accuracy": dict(zip(names, self.per_class_accuracy, strict=True)),
            "mean_class_accuracy": self.mean_class_accuracy,
            "per_class_precision": dict(zip(names, self.per_class_precision, strict=True)),
            "per_class_recall": dict(zip(names, self.per_class_accuracy, strict=True)),
            "per_class_f1": dict(zip(names, self.per_class_f1, strict=True)),
            "accuracy": self.accuracy,
            "images_all_rois_correct": self.images_all_rois_correct,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "confusion": self.confusion.tolist(),
            "samples": self.samples,
        }


@dataclass(frozen=True)
class RoiPredictions:
    """Per ROI: true label, predicted label (contiguous indices of the model's spec), image id."""

    y_true: np.ndarray
    y_pred: np.ndarray
    image_ids: np.ndarray


def classification_metrics(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    num_classes: int,
    image_ids: Sequence[int] | np.ndarray | None = None,
) -> ClassificationMetrics:
    """All figures from label arrays; empty input gives zeros."""
    t, p = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    conf = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(conf, (t, p), 1)
    tp = np.diag(conf).astype(np.float64)
    support, predicted = conf.sum(1).astype(np.float64), conf.sum(0).astype(np.float64)
    per_class = np.divide(tp, support, out=np.zeros(num_classes), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(num_classes), where=predicted > 0)
    f1 = np.divide(
        2 * precision * per_class, precision + per_class, out=np.zeros(num_classes), where=(precision + per_class) > 0
    )
    seen = (support > 0) | (predicted > 0)
    correct = t == p
    if image_ids is None:
        image_acc = float(correct.mean()) if len(t) else 0.0
    else:
        ids = np.asarray(image_ids)
        uniq = np.unique(ids)
        image_acc = float(np.mean([correct[ids == i].all() for i in uniq])) if len(uniq) else 0.0
    return ClassificationMetrics(
        per_class_accuracy=tuple(float(v) for v in per_class),
        mean_class_accuracy=float(per_class[support > 0].mean()) if (support > 0).any() else 0.0,
        accuracy=float(correct.mean()) if len(t) else 0.0,
        images_all_rois_correct=image_acc,
        precision=float(precision[seen].mean()) if seen.any() else 0.0,
        recall=float(per_class[seen].mean()) if seen.any() else 0.0,
        f1=float(f1[seen].mean()) if seen.any() else 0.0,
        confusion=conf,
        samples=int(len(t)),
        per_class_precision=tuple(float(v) for v in precision),
        per_class_f1=tuple(float(v) for v in f1),
    )


OBJECTIX_FIGURES = (
    "Mean Accuracy All Class Average",
    "Mean Accuracy Images",
    "Mean Precision",
    "Mean Recall",
    "Mean F1 Score",
)


def objectix_figures(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, num_classes: int
) -> dict[str, float]:
    """The ObjectiX project's five figures, under its names and definitions (classes in ``num_classes + 1``
    slots, the last spare). Per slot c from top-1: accuracy_c = TP/(TP+FP+FN); "Mean Accuracy All Class
    Average" = mean of accuracy_c over all slots × (slots / slots with samples); "Mean Accuracy Images" =
    ΣTP / Σsamples; "Mean Precision" / "Mean Recall" / "Mean F1 Score" = means over all slots of
    TP/(TP+FP), TP/(TP+FN), 2PR/(P+R), a slot without samples counting 0."""
    slots = num_classes + 1
    t, p = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    tp = np.bincount(t[t == p], minlength=slots).astype(np.float64)
    samples = np.bincount(t, minlength=slots).astype(np.float64)
    predicted = np.bincount(p, minlength=slots).astype(np.float64)
    fp, fn = predicted - tp, samples - tp
    has = samples > 0

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return np.divide(num, den, out=np.zeros(slots), where=(den > 0) & has)

    acc = ratio(tp, tp + fp + fn)
    prec, rec = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * prec * rec, prec + rec)
    with_samples = int(has.sum())
    values = (
        float(acc.mean() * slots / with_samples) if with_samples else 0.0,
        float(tp.sum() / samples.sum()) if samples.sum() else 0.0,
        float(prec.mean()),
        float(rec.mean()),
        float(f1.mean()),
    )
    return dict(zip(OBJECTIX_FIGURES, values, strict=True))


def first_images_per_class(source: CocoSource, per_class: int) -> dict[int, set[int]]:
    """ObjectiX's protocol: per category, the first ``per_class`` images of ``getImgIds(catIds=[c])``."""
    return {c.id: set(source.coco.getImgIds(catIds=[c.id])[:per_class]) for c in source.categories}


def predict_source_rois(
    runner: Runner, source: CocoSource, batch: int = 32, roi_mask: str = "box", per_class_images: int = 0
) -> RoiPredictions:
    """Classify every non-crowd ground-truth ROI whose category the model knows (``per_class_images`` > 0:
    only the instances of class c in the first N images of c, ObjectiX's protocol), through
    eval/inference.py as parity does."""
    if roi_mask not in ("box", "segmentation"):
        raise InputError(f"--roi-mask {roi_mask!r}: choose box or segmentation")
    only: dict[int, set[int]] | None = None
    ids = list(source.image_ids)
    if per_class_images > 0:
        chosen = first_images_per_class(source, per_class_images)
        only = {i: {cid for cid, imgs in chosen.items() if i in imgs} for i in ids}
        ids = [i for i in ids if only[i]]
    y_true: list[np.ndarray] = []
    y_pred: list[np.ndarray] = []
    image_ids: list[np.ndarray] = []
    for b, logits in classify(runner, roi_batches(source, ids, runner.spec, batch, roi_mask, only)):
        y_true.append(b.labels)
        y_pred.append(logits.argmax(1))
        image_ids.append(b.image_ids)
    if not y_true:
        return RoiPredictions(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    return RoiPredictions(np.concatenate(y_true), np.concatenate(y_pred).astype(np.int64), np.concatenate(image_ids))


def predict_source_images(runner: Runner, source: CocoSource, batch: int = 32) -> RoiPredictions:
    """A whole-image classifier on the images whose annotations are all of one of its categories."""

    spec = runner.spec
    model_label = {c.id: i for i, c in enumerate(spec.categories)}
    samples = [(i, model_label.get(source.categories[lab].id)) for i, lab in single_category_images(source)]
    samples = [(i, lab) for i, lab in samples if lab is not None]
    y_pred: list[int] = []
    for start in range(0, len(samples), max(1, batch)):
        part = samples[start : start + max(1, batch)]
        x = np.stack([preprocess_image(source.read(i), spec)[0] for i, _ in part])
        y_pred.extend(int(v) for v in run_batch(runner, {spec.input_names[0]: x}).argmax(1))
    ids = np.asarray([i for i, _ in samples], np.int64)
    return RoiPredictions(np.asarray([lab for _, lab in samples], np.int64), np.asarray(y_pred, np.int64), ids)


def evaluate_image_classifier(runner: Runner, source: CocoSource, batch: int = 32) -> ClassificationMetrics:
    preds = predict_source_images(runner, source, batch)
    return classification_metrics(preds.y_true, preds.y_pred, runner.spec.num_classes, preds.image_ids)


def predict_rois(runner: Runner, images_dir: str | Path, ann_file: str | Path, batch: int = 32) -> RoiPredictions:
    """Run ``runner`` (any backend) on the ground-truth ROIs of a COCO folder."""
    return predict_source_rois(runner, load_coco(images_dir, ann_file), batch)


def evaluate_classifier(
    runner: Runner, source: CocoSource, batch: int = 32, roi_mask: str = "box", per_class_images: int = 0
) -> ClassificationMetrics:
    preds = predict_source_rois(runner, source, batch, roi_mask, per_class_images)
    return classification_metrics(preds.y_true, preds.y_pred, runner.spec.num_classes, preds.image_ids)


def save_confusion_png(path: str | Path, confusion: np.ndarray, names: Sequence[str]) -> Path:
    """Row-normalized confusion matrix with counts, written atomically as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conf = np.asarray(confusion)
    rows = conf.sum(1, keepdims=True)
    norm = np.divide(conf, rows, out=np.zeros(conf.shape), where=rows > 0)
    n = len(names)
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * n + 2), max(3.5, 0.5 * n + 1.5)))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    str(conf[i, j]),
                    ha="center",
                    va="center",
                    color="white" if norm[i, j] > 0.5 else "black",
                    fontsize=8,
                )
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path
