"""ROI classifier feeds: the box as a crop with context plus a box mask, or the whole image plus an ROI mask.

ROI classifiers take the box in one of two ways (``spec.roi_mode``): cropped with context and resized to
the input size with a box mask (``crop``), or the whole image with a mask of the ROI (``full-image``).
Both resize and normalize exactly as ``preprocess.py`` does for whole images.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from objectix_edge.errors import InputError
from objectix_edge.modelio.preprocess import Letterbox, fitted_size, normalize, preprocess_image, resize_image
from objectix_edge.spec import ModelSpec, RoiMode

# px: smaller boxes are not worth a classifier's look (mostly annotation noise; no useful calibration ranges).
MIN_ROI_SIDE = 8.0


def context_box(box: Sequence[float], context: float, img_w: int, img_h: int) -> tuple[int, int, int, int]:
    """Square crop around ``box`` (x1, y1, x2, y2) enlarged by ``context`` of its longer side, clipped to the image."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1, 1.0) * (1.0 + 2.0 * context)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    cx1, cy1 = int(np.floor(cx - side / 2)), int(np.floor(cy - side / 2))
    cx2, cy2 = int(np.ceil(cx + side / 2)), int(np.ceil(cy + side / 2))
    return max(0, cx1), max(0, cy1), min(img_w, max(cx2, cx1 + 1)), min(img_h, max(cy2, cy1 + 1))


def box_mask(box: Sequence[float], lb: Letterbox, h: int, w: int, out: np.ndarray | None = None) -> np.ndarray:
    """1×H×W float32 mask of ``box`` (original pixels) mapped into an input of size (h, w) by ``lb``.

    The one box-mask rule of both ROI modes: the mapped box widened to whole pixels (floor / ceil),
    clipped to the input, at least one pixel. ``out``: a zeroed 1×H×W array or view to mark instead.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    mx1 = int(np.clip(np.floor(x1 * lb.sx + lb.pad_x), 0, w))
    my1 = int(np.clip(np.floor(y1 * lb.sy + lb.pad_y), 0, h))
    mx2 = int(np.clip(np.ceil(x2 * lb.sx + lb.pad_x), 0, w))
    my2 = int(np.clip(np.ceil(y2 * lb.sy + lb.pad_y), 0, h))
    mask = np.zeros((1, h, w), dtype=np.float32) if out is None else out
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
    th, tw = spec.input_size
    image, mask = np.empty((3, th, tw), np.float32), np.zeros((1, th, tw), np.float32)
    normalize(_crop_into(image_bgr, box, spec, mask), spec, out=image)
    return image, mask


def _crop_into(
    image_bgr: np.ndarray, box: Sequence[float], spec: ModelSpec, mask: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """The box with context, resized to the input size (HWC, not normalized; into ``out`` when given);
    its box mask marked in ``mask``."""
    img_h, img_w = image_bgr.shape[:2]
    cx1, cy1, cx2, cy2 = context_box(box, spec.roi_context, img_w, img_h)
    crop = image_bgr[cy1:cy2, cx1:cx2]
    if crop.size == 0:  # the box (with its context) lies entirely outside the image
        raise InputError(f"ROI box {[round(float(v), 1) for v in box]} lies outside the {img_w}x{img_h} image")
    th, tw = spec.input_size
    # The crop is a stretch of its own: the box, moved into the crop, goes through the one box-mask rule.
    in_crop = Letterbox(tw / crop.shape[1], 0.0, 0.0, crop.shape[0], crop.shape[1], scale_y=th / crop.shape[0])
    x1, y1, x2, y2 = (float(v) for v in box)
    box_mask((x1 - cx1, y1 - cy1, x2 - cx1, y2 - cy1), in_crop, th, tw, out=mask)
    return resize_image(crop, (tw, th), spec.resize_kernel, out=out)


def crop_batch(
    image_bgr: np.ndarray,
    boxes: Sequence[Sequence[float]] | np.ndarray,
    spec: ModelSpec,
    out: np.ndarray | None = None,
    mask_dtype: type = np.float32,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Crop-mode ROIs of one frame, resized but not normalized (HWC BGR, uint8 unless the kernel is float;
    into ``out[i]`` when given: the device path's upload buffer), and their ``[N, 1, H, W]`` 0/1 masks."""
    masks: np.ndarray = np.zeros((len(boxes), 1, *spec.input_size), mask_dtype)
    crops = [_crop_into(image_bgr, b, spec, masks[i], None if out is None else out[i]) for i, b in enumerate(boxes)]
    return crops, masks


def roi_masks(
    boxes: Sequence[Sequence[float]] | np.ndarray, lb: Letterbox, h: int, w: int, dtype: type = np.float32
) -> np.ndarray:
    """``[N, 1, h, w]`` 0/1 masks of ``boxes`` (original pixels) mapped by ``lb``: the full-image ROI masks."""
    masks: np.ndarray = np.zeros((len(boxes), 1, h, w), dtype)
    for i, b in enumerate(boxes):
        box_mask(b, lb, h, w, out=masks[i])
    return masks


def preprocess_rois(
    image_bgr: np.ndarray, boxes: Sequence[Sequence[float]] | np.ndarray, spec: ModelSpec
) -> dict[str, np.ndarray]:
    """All ROIs of one frame → one batch ``{"images": [N,3,H,W], "roi_mask": [N,1,H,W]}`` (either ROI mode;
    a whole-image classifier gets only ``images``, the crops with context)."""
    if spec.roi_mode == RoiMode.FULL_IMAGE:
        h, w = fitted_size(image_bgr.shape[0], image_bgr.shape[1], spec)
        images = np.empty((len(boxes), 3, h, w), np.float32)
        if len(boxes) == 0:
            return {"images": images, "roi_mask": np.zeros((0, 1, h, w), np.float32)}
        lb = _repeated_image(image_bgr, spec, out=images)
        return {"images": images, "roi_mask": roi_masks(boxes, lb, h, w)}
    crops, masks = crop_batch(image_bgr, boxes, spec)
    images = np.empty((len(crops), 3, *spec.input_size), np.float32)
    for i, crop in enumerate(crops):
        normalize(crop, spec, out=images[i])
    # A whole-image classifier (task classify) in the cascade gets the crop alone.
    return {k: v for k, v in {"images": images, "roi_mask": masks}.items() if k in spec.input_names}


def _repeated_image(image_bgr: np.ndarray, spec: ModelSpec, out: np.ndarray) -> Letterbox:
    """The image preprocessed once into ``out[0]`` and copied to the rest of ``out`` (N × 3 × H × W)."""
    lb = preprocess_image(image_bgr, spec, out=out[0])[1]
    out[1:] = out[0]  # the batch is N copies by the model's contract; one broadcast copy, no np.repeat temporary
    return lb


def preprocess_masked(image_bgr: np.ndarray, masks: Sequence[np.ndarray], spec: ModelSpec) -> dict[str, np.ndarray]:
    """A full-image ROI classifier's batch from ROI masks of the image's size (e.g. COCO segmentations)."""
    h, w = fitted_size(image_bgr.shape[0], image_bgr.shape[1], spec)
    images = np.empty((len(masks), 3, h, w), np.float32)
    if len(masks) == 0:
        return {"images": images, "roi_mask": np.zeros((0, 1, h, w), np.float32)}
    _repeated_image(image_bgr, spec, out=images)
    return {"images": images, "roi_mask": np.stack([resize_mask(m, h, w) for m in masks])}
