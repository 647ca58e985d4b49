"""Detector post-processing: filter padded rows and map boxes back to original-image pixels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from objectix_edge.modelio.preprocess import Letterbox
from objectix_edge.spec import ModelSpec

# A detection counts as "confident" at or above this score: the original's ground truth for agreement
# (eval), the rows a footage calibration takes its ROIs from (calib) and the drift profile (stream.health).
AGREEMENT_CONF = 0.3


@dataclass(frozen=True)
class Detection:
    """One box in original-image pixels with its contiguous class index and COCO category id."""

    box: tuple[float, float, float, float]
    score: float
    class_index: int
    category_id: int
    name: str


def to_original(detections: np.ndarray, lb: Letterbox, conf: float = 0.0) -> np.ndarray:
    """``[K, 6]`` rows in input pixels → rows with score > conf in original pixels, clipped to the image."""
    rows = np.asarray(detections, dtype=np.float32)
    rows = rows[rows[:, 4] > conf].copy()
    rows[:, [0, 2]] = np.clip((rows[:, [0, 2]] - lb.pad_x) / lb.sx, 0, lb.orig_w)
    rows[:, [1, 3]] = np.clip((rows[:, [1, 3]] - lb.pad_y) / lb.sy, 0, lb.orig_h)
    return rows


def to_detections(rows: np.ndarray, spec: ModelSpec) -> list[Detection]:
    """Rows in original pixels → Detection records with category ids and names from the spec."""
    cats = spec.categories
    out = []
    for x1, y1, x2, y2, score, cls in rows.tolist():
        cat = cats[int(cls)]
        out.append(Detection((x1, y1, x2, y2), float(score), int(cls), cat.id, cat.name))
    return out


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in float64 (logits come from FP16/INT8 files too)."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)
