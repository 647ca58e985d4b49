"""Training transforms on (BGR image, boxes x1y1x2y2, labels): letterbox, random resize, flip, crop.

Every random transform takes an explicit ``numpy.random.Generator`` so a sample's augmentation is a
pure function of (seed, epoch, index): that makes ``--resume`` and DDP reproducible.
Inference uses modelio.preprocess.letterbox; ``letterbox_boxes`` applies the very same mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from objectix_edge.modelio.preprocess import Letterbox, letterbox

MIN_BOX_SIDE = 2.0  # px in the output; smaller boxes cannot be localised at stride 4
MIN_VISIBLE = 0.35  # fraction of a box that must survive a crop for it to stay a target


@dataclass(frozen=True)
class AugmentConfig:
    """Detector training augmentation strengths (probabilities and ranges)."""

    flip_p: float = 0.5
    crop_p: float = 0.3
    crop_scale: tuple[float, float] = (0.35, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    resize_range: tuple[float, float] = (0.6, 1.25)


def _clip_to_canvas(
    boxes: np.ndarray, labels: np.ndarray, width: float, height: float
) -> tuple[np.ndarray, np.ndarray]:
    """Clip moved boxes to a ``width`` × ``height`` canvas and keep those still visible enough."""
    boxes = boxes.reshape(-1, 4)
    clipped = np.stack(
        [
            boxes[:, 0].clip(0, width),
            boxes[:, 1].clip(0, height),
            boxes[:, 2].clip(0, width),
            boxes[:, 3].clip(0, height),
        ],
        1,
    )
    return _keep_visible(boxes, labels, clipped)


def _keep_visible(boxes: np.ndarray, labels: np.ndarray, clipped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    new_area = (clipped[:, 2] - clipped[:, 0]).clip(0) * (clipped[:, 3] - clipped[:, 1]).clip(0)
    keep = (
        (new_area >= MIN_VISIBLE * np.maximum(area, 1e-6))
        & ((clipped[:, 2] - clipped[:, 0]) >= MIN_BOX_SIDE)
        & ((clipped[:, 3] - clipped[:, 1]) >= MIN_BOX_SIDE)
    )
    return clipped[keep].astype(np.float32), labels[keep]


def letterbox_boxes(boxes: np.ndarray, lb: Letterbox) -> np.ndarray:
    """Map original-pixel boxes into the letterboxed input (``input = original * scale + pad``)."""
    out = boxes.astype(np.float32) * lb.scale
    out[:, [0, 2]] += lb.pad_x
    out[:, [1, 3]] += lb.pad_y
    return out


def letterbox_sample(
    image: np.ndarray, boxes: np.ndarray, size: tuple[int, int], pad_value: int = 114
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic letterbox of image and boxes, identical to inference preprocessing."""
    boxed, lb = letterbox(image, size, pad_value)
    return boxed, letterbox_boxes(boxes, lb)


def hflip(
    image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, p: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror left-right with probability ``p``."""
    if rng.random() >= p:
        return image, boxes
    w = image.shape[1]
    flipped = boxes.copy()
    flipped[:, [0, 2]] = w - boxes[:, [2, 0]]
    return np.ascontiguousarray(image[:, ::-1]), flipped


def random_resized_crop(
    image: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    scale: tuple[float, float] = (0.35, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crop a random region (area fraction in ``scale``, aspect in ``ratio``); boxes mostly outside are dropped."""
    h, w = image.shape[:2]
    for _ in range(10):
        area = h * w * rng.uniform(*scale)
        aspect = np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1])))
        cw, ch = int(round(np.sqrt(area * aspect))), int(round(np.sqrt(area / aspect)))
        if 8 <= cw <= w and 8 <= ch <= h:
            x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            shifted = boxes - np.array([x0, y0, x0, y0], np.float32)
            kept_boxes, kept_labels = _clip_to_canvas(shifted, labels, cw, ch)
            return image[y0 : y0 + ch, x0 : x0 + cw], kept_boxes, kept_labels
    return image, boxes, labels


def random_resize(
    image: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    size: tuple[int, int],
    rng: np.random.Generator,
    scale_range: tuple[float, float] = (0.6, 1.25),
    pad_value: int = 114,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Letterbox scale times a random factor, placed at a random spot of the ``size`` canvas (cropped if larger)."""
    h, w = image.shape[:2]
    th, tw = size
    scale = min(th / h, tw / w) * rng.uniform(*scale_range)
    nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    # Offset of the resized image on the canvas: positive pads, negative crops.
    ox = int(rng.integers(min(0, tw - nw), max(0, tw - nw) + 1))
    oy = int(rng.integers(min(0, th - nh), max(0, th - nh) + 1))
    canvas = np.full((th, tw, 3), pad_value, np.uint8)
    sx0, sy0 = max(0, -ox), max(0, -oy)
    dx0, dy0 = max(0, ox), max(0, oy)
    cw, ch = min(nw - sx0, tw - dx0), min(nh - sy0, th - dy0)
    canvas[dy0 : dy0 + ch, dx0 : dx0 + cw] = resized[sy0 : sy0 + ch, sx0 : sx0 + cw]
    moved = boxes * scale + np.array([ox, oy, ox, oy], np.float32)
    kept_boxes, kept_labels = _clip_to_canvas(moved, labels, tw, th)
    return canvas, kept_boxes, kept_labels


def train_detector_transform(
    image: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    size: tuple[int, int],
    rng: np.random.Generator,
    cfg: AugmentConfig,
    pad_value: int = 114,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crop (sometimes), flip, random resize into the input canvas."""
    if rng.random() < cfg.crop_p:
        image, boxes, labels = random_resized_crop(image, boxes, labels, rng, cfg.crop_scale, cfg.crop_ratio)
    image, boxes = hflip(image, boxes, rng, cfg.flip_p)
    return random_resize(image, boxes, labels, size, rng, cfg.resize_range, pad_value)


def jitter_box(box: np.ndarray, rng: np.random.Generator, shift: float = 0.1, scale: float = 0.15) -> np.ndarray:
    """Shift and rescale an ROI box a little, as a detector's boxes would be off in practice."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    cx, cy = (x1 + x2) / 2 + rng.uniform(-shift, shift) * w, (y1 + y2) / 2 + rng.uniform(-shift, shift) * h
    w, h = w * np.exp(rng.uniform(-scale, scale)), h * np.exp(rng.uniform(-scale, scale))
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.float32)


def roi_augment(crop: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Flip, quarter-turn and channel shuffle of a normalized CHW crop and its mask, applied together.

    Crops are square, so a quarter turn keeps the input shape; channel order carries no class
    information for shapes, and COCO classes tolerate it at low probability as colour augmentation.
    """
    if rng.random() < 0.5:
        crop, mask = crop[:, :, ::-1], mask[:, :, ::-1]
    turns = int(rng.integers(0, 4)) if crop.shape[1] == crop.shape[2] else 0
    crop, mask = np.rot90(crop, turns, axes=(1, 2)), np.rot90(mask, turns, axes=(1, 2))
    if rng.random() < 0.25:
        crop = crop[rng.permutation(3)]
    return np.ascontiguousarray(crop, np.float32), np.ascontiguousarray(mask, np.float32)
