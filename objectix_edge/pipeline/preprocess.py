"""Inference preprocessing shared by eval, parity, calibration, run and bench.

Detector: letterbox a BGR frame to the spec's input size (aspect kept, padded with ``pad_value``),
convert to RGB, scale to [0, 1], normalize with the spec's mean/std, CHW float32.
ROI classifier: crop the box with context, resize to the input size, and build the ROI mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from objectix_edge.spec import ModelSpec


@dataclass(frozen=True)
class Letterbox:
    """How an original image maps into the model input: ``input = original * scale + pad``."""

    scale: float
    pad_x: float
    pad_y: float
    orig_h: int
    orig_w: int


def letterbox(image: np.ndarray, size: tuple[int, int], pad_value: int = 114) -> tuple[np.ndarray, Letterbox]:
    """Resize ``image`` (H, W, 3 uint8) into ``size`` = (h, w) keeping aspect; pad evenly on both sides."""
    h, w = image.shape[:2]
    th, tw = size
    scale = min(th / h, tw / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interp) if (nh, nw) != (h, w) else image
    top, left = (th - nh) // 2, (tw - nw) // 2
    out = np.full((th, tw, 3), pad_value, dtype=np.uint8)
    out[top : top + nh, left : left + nw] = resized
    return out, Letterbox(scale=scale, pad_x=float(left), pad_y=float(top), orig_h=h, orig_w=w)


def normalize(rgb: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """HWC uint8 RGB → CHW float32, scaled to [0, 1] and normalized by the spec's mean/std."""
    mean = np.asarray(spec.mean, dtype=np.float32) * 255.0
    inv_std = 1.0 / (np.asarray(spec.std, dtype=np.float32) * 255.0)
    out = (rgb.astype(np.float32) - mean) * inv_std
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def preprocess_detector(image_bgr: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, Letterbox]:
    """One BGR frame → (CHW float32 input, its Letterbox)."""
    boxed, lb = letterbox(image_bgr, spec.input_size, spec.pad_value)
    return normalize(cv2.cvtColor(boxed, cv2.COLOR_BGR2RGB), spec), lb


def preprocess_detector_batch(images_bgr: Sequence[np.ndarray], spec: ModelSpec) -> tuple[np.ndarray, list[Letterbox]]:
    """Frames → ``images[B, 3, H, W]`` float32 and one Letterbox per frame."""
    arrays, boxes = zip(*(preprocess_detector(img, spec) for img in images_bgr), strict=True)
    return np.stack(arrays), list(boxes)


def letterbox_batch(images_bgr: Sequence[np.ndarray], spec: ModelSpec) -> tuple[np.ndarray, list[Letterbox]]:
    """Frames → letterboxed ``[B, H, W, 3]`` uint8 BGR (the half of preprocessing that stays on the host)."""
    boxed, boxes = zip(*(letterbox(img, spec.input_size, spec.pad_value) for img in images_bgr), strict=True)
    return np.stack(boxed), list(boxes)


def context_box(box: Sequence[float], context: float, img_w: int, img_h: int) -> tuple[int, int, int, int]:
    """Square crop around ``box`` (x1, y1, x2, y2) enlarged by ``context`` of its longer side, clipped to the image."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1, 1.0) * (1.0 + 2.0 * context)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    cx1, cy1 = int(np.floor(cx - side / 2)), int(np.floor(cy - side / 2))
    cx2, cy2 = int(np.ceil(cx + side / 2)), int(np.ceil(cy + side / 2))
    return max(0, cx1), max(0, cy1), min(img_w, max(cx2, cx1 + 1)), min(img_h, max(cy2, cy1 + 1))


def crop_roi(image_bgr: np.ndarray, box: Sequence[float], spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """Crop ``box`` with context → (CHW float32 image, 1×H×W float32 mask of the box inside the crop)."""
    img_h, img_w = image_bgr.shape[:2]
    cx1, cy1, cx2, cy2 = context_box(box, spec.roi_context, img_w, img_h)
    crop = image_bgr[cy1:cy2, cx1:cx2]
    th, tw = spec.input_size
    sx, sy = tw / crop.shape[1], th / crop.shape[0]
    resized = cv2.resize(crop, (tw, th), interpolation=cv2.INTER_AREA if sx < 1 else cv2.INTER_LINEAR)
    mask = np.zeros((1, th, tw), dtype=np.float32)
    x1, y1, x2, y2 = (float(v) for v in box)
    mx1, my1 = int(np.clip(np.floor((x1 - cx1) * sx), 0, tw)), int(np.clip(np.floor((y1 - cy1) * sy), 0, th))
    mx2, my2 = int(np.clip(np.ceil((x2 - cx1) * sx), 0, tw)), int(np.clip(np.ceil((y2 - cy1) * sy), 0, th))
    mask[0, my1 : max(my2, my1 + 1), mx1 : max(mx2, mx1 + 1)] = 1.0
    return normalize(cv2.cvtColor(resized, cv2.COLOR_BGR2RGB), spec), mask


def preprocess_rois(
    image_bgr: np.ndarray, boxes: Sequence[Sequence[float]] | np.ndarray, spec: ModelSpec
) -> dict[str, np.ndarray]:
    """All ROIs of one frame → one batch ``{"images": [N,3,H,W], "roi_mask": [N,1,H,W]}``."""
    th, tw = spec.input_size
    if len(boxes) == 0:
        return {"images": np.zeros((0, 3, th, tw), np.float32), "roi_mask": np.zeros((0, 1, th, tw), np.float32)}
    crops, masks = zip(*(crop_roi(image_bgr, b, spec) for b in boxes), strict=True)
    return {"images": np.stack(crops), "roi_mask": np.stack(masks)}
