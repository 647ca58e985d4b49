"""ROI classifier evaluation: the five ObjectiX figures plus a confusion matrix (and its PNG).

Definitions (rows of the confusion matrix are true classes, columns predictions):
- per-class accuracy: correct / support of each true class (its recall);
- mean class accuracy: mean of per-class accuracy over classes with support;
- accuracy: correct / all ROIs (top-1);
- image-level accuracy: fraction of images whose ROIs are all classified correctly;
- macro precision / recall / F1: unweighted means over classes seen in truth or predictions,
  a class never predicted counting precision 0 (as scikit-learn's zero_division=0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.data.coco import CocoSource, load_coco, read_image
from objectix_edge.fileio import atomic_path
from objectix_edge.pipeline.preprocess import preprocess_rois
from objectix_edge.runtime.base import Runner


@dataclass(frozen=True)
class ClassificationMetrics:
    """Figures as fractions in [0, 1]; ``confusion[i, j]`` counts true class i predicted as j."""

    per_class_accuracy: tuple[float, ...]
    mean_class_accuracy: float
    accuracy: float
    image_accuracy: float
    precision: float
    recall: float
    f1: float
    confusion: np.ndarray
    samples: int

    def as_dict(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        names = list(names) if names else [str(i) for i in range(len(self.per_class_accuracy))]
        return {
            "per_class_accuracy": dict(zip(names, self.per_class_accuracy, strict=True)),
            "mean_class_accuracy": self.mean_class_accuracy,
            "accuracy": self.accuracy,
            "image_accuracy": self.image_accuracy,
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
        image_accuracy=image_acc,
        precision=float(precision[seen].mean()) if seen.any() else 0.0,
        recall=float(per_class[seen].mean()) if seen.any() else 0.0,
        f1=float(f1[seen].mean()) if seen.any() else 0.0,
        confusion=conf,
        samples=int(len(t)),
    )


def predict_source_rois(runner: Runner, source: CocoSource, batch: int = 32) -> RoiPredictions:
    """Classify every non-crowd ground-truth box whose category the model knows."""
    spec = runner.spec
    label_of = {c.id: i for i, c in enumerate(spec.categories)}
    src_ids = [c.id for c in source.categories]
    fixed = runner.inputs()[0].shape[0]
    size = fixed if fixed > 0 else max(1, batch)
    y_true: list[int] = []
    y_pred: list[int] = []
    image_ids: list[int] = []
    pending: dict[str, list[np.ndarray]] = {"images": [], "roi_mask": []}

    def flush() -> None:
        if not pending["images"]:
            return
        feeds = {k: np.stack(v) for k, v in pending.items()}
        n = len(feeds["images"])
        if fixed > 0 and n < fixed:
            feeds = {k: np.concatenate([v, np.zeros((fixed - n, *v.shape[1:]), v.dtype)]) for k, v in feeds.items()}
        dtypes = {i.name: i.dtype for i in runner.inputs()}
        logits = np.asarray(runner.infer({k: v.astype(dtypes[k]) for k, v in feeds.items()})[spec.output_names[0]])
        y_pred.extend(int(v) for v in logits[:n].argmax(1))
        pending["images"].clear()
        pending["roi_mask"].clear()

    for image_id in source.image_ids:
        t = source.targets(image_id)
        keep = [k for k, lab in enumerate(t.labels) if src_ids[int(lab)] in label_of]
        if not keep:
            continue
        rois = preprocess_rois(read_image(t.path), t.boxes[keep], spec)
        for k, j in enumerate(keep):
            pending["images"].append(rois["images"][k])
            pending["roi_mask"].append(rois["roi_mask"][k])
            y_true.append(label_of[src_ids[int(t.labels[j])]])
            image_ids.append(image_id)
            if len(pending["images"]) == size:
                flush()
    flush()
    return RoiPredictions(np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64), np.asarray(image_ids, np.int64))


def predict_rois(runner: Runner, images_dir: str | Path, ann_file: str | Path, batch: int = 32) -> RoiPredictions:
    """Run ``runner`` (any backend) on the ground-truth ROIs of a COCO folder."""
    return predict_source_rois(runner, load_coco(images_dir, ann_file), batch)


def evaluate_classifier(runner: Runner, source: CocoSource, batch: int = 32) -> ClassificationMetrics:
    preds = predict_source_rois(runner, source, batch)
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
