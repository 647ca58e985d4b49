"""Inference preprocessing shared by eval, parity, calibration, run, bench and predict; all of it reads the spec.

An image (BGR uint8, as OpenCV reads it) is resized by the spec's policy and kernel (letterbox, stretch, or
its own size with a long-side cap), put in the spec's channel order, scaled to [0, ``pixel_scale``] and
normalized by the spec's mean/std (per input channel index, in those units): CHW float32.
ROI classifiers take the box in one of two ways (``spec.roi_mode``): cropped with context and resized to
the input size with a box mask (``crop``), or the whole image with a mask of the ROI (``full-image``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from objectix_edge.errors import InputError
from objectix_edge.spec import ChannelOrder, ModelSpec, ResizeKernel, ResizePolicy, RoiMode

# px: smaller boxes are not worth a classifier's look (mostly annotation noise; no useful calibration ranges).
MIN_ROI_SIDE = 8.0


@dataclass(frozen=True)
class Letterbox:
    """How an original image maps into the model input: ``x_in = x * scale + pad_x``, ``y_in = y * sy + pad_y``.

    ``scale_y`` is set only when the two axes differ (stretch); ``sy`` reads it.
    """

    scale: float
    pad_x: float
    pad_y: float
    orig_h: int
    orig_w: int
    scale_y: float = 0.0

    @property
    def sx(self) -> float:
        return self.scale

    @property
    def sy(self) -> float:
        return self.scale_y or self.scale


def resize_image(image: np.ndarray, size_wh: tuple[int, int], kernel: ResizeKernel) -> np.ndarray:
    """Resize HWC (or HW) ``image`` to ``size_wh`` = (w, h) with ``kernel`` (uint8 in; uint8 or float32 out)."""
    h, w = image.shape[:2]
    if (w, h) == tuple(size_wh):
        return image
    if kernel == ResizeKernel.BILINEAR:
        return cv2.resize(image.astype(np.float32), size_wh, interpolation=cv2.INTER_LINEAR)
    if kernel == ResizeKernel.PIL_BILINEAR:
        from PIL import Image

        return np.asarray(Image.fromarray(image).resize(size_wh, Image.Resampling.BILINEAR))
    # Version 1's rule, kept exactly: area when the width shrinks, else bilinear.
    return cv2.resize(image, size_wh, interpolation=cv2.INTER_AREA if size_wh[0] < w else cv2.INTER_LINEAR)


def letterbox(
    image: np.ndarray, size: tuple[int, int], pad_value: int = 114, kernel: ResizeKernel = ResizeKernel.AREA
) -> tuple[np.ndarray, Letterbox]:
    """Resize ``image`` (H, W, 3 uint8) into ``size`` = (h, w) keeping aspect; pad evenly on both sides."""
    h, w = image.shape[:2]
    th, tw = size
    scale = min(th / h, tw / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = resize_image(image, (nw, nh), kernel)
    top, left = (th - nh) // 2, (tw - nw) // 2
    out = np.full((th, tw, 3), pad_value, dtype=resized.dtype)
    out[top : top + nh, left : left + nw] = resized
    return out, Letterbox(scale=scale, pad_x=float(left), pad_y=float(top), orig_h=h, orig_w=w)


def keep_size(h: int, w: int, max_side: int) -> tuple[int, int]:
    """(h, w) of an image kept at its own size, its long side capped at ``max_side`` (0: no cap)."""
    if max_side <= 0 or max(h, w) <= max_side:
        return h, w
    scale = max_side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def fit(image: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, Letterbox]:
    """Resize a BGR image by the spec's policy and kernel → (HWC BGR, its Letterbox); no colour work yet."""
    h, w = image.shape[:2]
    if spec.resize == ResizePolicy.LETTERBOX:
        return letterbox(image, spec.input_size, spec.pad_value, spec.resize_kernel)
    th, tw = spec.input_size if spec.resize == ResizePolicy.STRETCH else keep_size(h, w, spec.max_side)
    resized = resize_image(image, (tw, th), spec.resize_kernel)
    return resized, Letterbox(scale=tw / w, pad_x=0.0, pad_y=0.0, orig_h=h, orig_w=w, scale_y=th / h)


def channel_stats(spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """(mean, 1/std) per input channel in 0-255 pixel units: ``x = (pixel - mean) * inv_std``."""
    to_pixels = 255.0 / spec.pixel_scale
    mean = np.asarray(spec.mean, dtype=np.float32) * np.float32(to_pixels)
    inv_std = 1.0 / (np.asarray(spec.std, dtype=np.float32) * np.float32(to_pixels))
    return mean, inv_std


def normalize(image_bgr: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """HWC BGR pixels (0-255, uint8 or float) → CHW float32 in the spec's channel order, scale and statistics."""
    pixels = image_bgr[..., ::-1] if spec.channel_order == ChannelOrder.RGB else image_bgr
    mean, inv_std = channel_stats(spec)
    out = (pixels.astype(np.float32) - mean) * inv_std
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def preprocess_image(image_bgr: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, Letterbox]:
    """One BGR image → (CHW float32 input, its Letterbox), by the spec's resize and normalization."""
    fitted, lb = fit(image_bgr, spec)
    return normalize(fitted, spec), lb


preprocess_detector = preprocess_image


def preprocess_detector_batch(images_bgr: Sequence[np.ndarray], spec: ModelSpec) -> tuple[np.ndarray, list[Letterbox]]:
    """Frames → ``images[B, 3, H, W]`` float32 and one Letterbox per frame."""
    arrays, boxes = zip(*(preprocess_image(img, spec) for img in images_bgr), strict=True)
    return np.stack(arrays), list(boxes)


def letterbox_batch(images_bgr: Sequence[np.ndarray], spec: ModelSpec) -> tuple[np.ndarray, list[Letterbox]]:
    """Frames → resized ``[B, H, W, 3]`` BGR (the half of preprocessing that stays on the host)."""
    boxed, boxes = zip(*(fit(img, spec) for img in images_bgr), strict=True)
    return np.stack(boxed), list(boxes)


def context_box(box: Sequence[float], context: float, img_w: int, img_h: int) -> tuple[int, int, int, int]:
    """Square crop around ``box`` (x1, y1, x2, y2) enlarged by ``context`` of its longer side, clipped to the image."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1, 1.0) * (1.0 + 2.0 * context)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    cx1, cy1 = int(np.floor(cx - side / 2)), int(np.floor(cy - side / 2))
    cx2, cy2 = int(np.ceil(cx + side / 2)), int(np.ceil(cy + side / 2))
    return max(0, cx1), max(0, cy1), min(img_w, max(cx2, cx1 + 1)), min(img_h, max(cy2, cy1 + 1))


def box_mask(box: Sequence[float], lb: Letterbox, h: int, w: int) -> np.ndarray:
    """1×H×W float32 mask of ``box`` (original pixels) mapped into an input of size (h, w) by ``lb``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    mx1 = int(np.clip(np.floor(x1 * lb.sx + lb.pad_x), 0, w))
    my1 = int(np.clip(np.floor(y1 * lb.sy + lb.pad_y), 0, h))
    mx2 = int(np.clip(np.ceil(x2 * lb.sx + lb.pad_x), 0, w))
    my2 = int(np.clip(np.ceil(y2 * lb.sy + lb.pad_y), 0, h))
    mask = np.zeros((1, h, w), dtype=np.float32)
    mask[0, my1 : max(my2, my1 + 1), mx1 : max(mx2, mx1 + 1)] = 1.0
    return mask


def resize_mask(mask: np.ndarray, h: int, w: int) -> np.ndarray:
    """A binary HW mask (nonzero = inside) → 1×h×w float32 0/1 (nearest neighbour when the size differs)."""
    binary = (np.asarray(mask) != 0).astype(np.uint8)
    if binary.shape != (h, w):
        binary = cv2.resize(binary, (w, h), interpolation=cv2.INTER_NEAREST)
    return binary[None].astype(np.float32)


def crop_roi(image_bgr: np.ndarray, box: Sequence[float], spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """One ROI → (CHW float32 image, 1×H×W float32 mask) by the spec's ROI mode.

    ``crop``: the box with context, stretched to the input size (the box mask inside the crop);
    ``full-image``: the whole image by the spec's resize policy, with the box mask.
    """
    if spec.roi_mode == RoiMode.FULL_IMAGE:
        image, lb = preprocess_image(image_bgr, spec)
        return image, box_mask(box, lb, image.shape[1], image.shape[2])
    img_h, img_w = image_bgr.shape[:2]
    cx1, cy1, cx2, cy2 = context_box(box, spec.roi_context, img_w, img_h)
    crop = image_bgr[cy1:cy2, cx1:cx2]
    if crop.size == 0:  # the box (with its context) lies entirely outside the image
        raise InputError(f"ROI box {[round(float(v), 1) for v in box]} lies outside the {img_w}x{img_h} image")
    th, tw = spec.input_size
    sx, sy = tw / crop.shape[1], th / crop.shape[0]
    resized = resize_image(crop, (tw, th), spec.resize_kernel)
    mask = np.zeros((1, th, tw), dtype=np.float32)
    x1, y1, x2, y2 = (float(v) for v in box)
    mx1, my1 = int(np.clip(np.floor((x1 - cx1) * sx), 0, tw)), int(np.clip(np.floor((y1 - cy1) * sy), 0, th))
    mx2, my2 = int(np.clip(np.ceil((x2 - cx1) * sx), 0, tw)), int(np.clip(np.ceil((y2 - cy1) * sy), 0, th))
    mask[0, my1 : max(my2, my1 + 1), mx1 : max(mx2, mx1 + 1)] = 1.0
    return normalize(resized, spec), mask


def preprocess_rois(
    image_bgr: np.ndarray, boxes: Sequence[Sequence[float]] | np.ndarray, spec: ModelSpec
) -> dict[str, np.ndarray]:
    """All ROIs of one frame → one batch ``{"images": [N,3,H,W], "roi_mask": [N,1,H,W]}`` (either ROI mode;
    a whole-image classifier gets only ``images``, the crops with context)."""
    if spec.roi_mode == RoiMode.FULL_IMAGE:
        image, lb = preprocess_image(image_bgr, spec)
        _, h, w = image.shape
        masks = [box_mask(b, lb, h, w) for b in boxes]
        stacked = np.stack(masks) if masks else np.zeros((0, 1, h, w), np.float32)
        return {"images": np.repeat(image[None], len(masks), axis=0), "roi_mask": stacked}
    th, tw = spec.input_size
    if len(boxes) == 0:
        empty = {"images": np.zeros((0, 3, th, tw), np.float32), "roi_mask": np.zeros((0, 1, th, tw), np.float32)}
        return {k: v for k, v in empty.items() if k in spec.input_names}
    crops, masks = zip(*(crop_roi(image_bgr, b, spec) for b in boxes), strict=True)
    # A whole-image classifier (task classify) in the cascade gets the crop alone.
    return {k: v for k, v in {"images": np.stack(crops), "roi_mask": np.stack(masks)}.items() if k in spec.input_names}


def preprocess_masked(image_bgr: np.ndarray, masks: Sequence[np.ndarray], spec: ModelSpec) -> dict[str, np.ndarray]:
    """A full-image ROI classifier's batch from ROI masks of the image's size (e.g. COCO segmentations)."""
    image, _ = preprocess_image(image_bgr, spec)
    _, h, w = image.shape
    stacked = np.stack([resize_mask(m, h, w) for m in masks]) if masks else np.zeros((0, 1, h, w), np.float32)
    return {"images": np.repeat(image[None], len(stacked), axis=0), "roi_mask": stacked}
