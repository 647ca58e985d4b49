"""CenterNet training targets at the head's output stride.

The encoding mirrors ``decode_centernet``: centre = (grid + offset) * stride and
size = exp(log_size) * stride, so a perfect prediction decodes to the ground-truth box.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

MAX_OBJECTS = 128


def gaussian_radius(height: float, width: float, min_overlap: float = 0.7) -> float:
    """CenterNet's radius: the largest corner shift keeping IoU ≥ ``min_overlap`` (three cases)."""
    a1, b1 = 1.0, height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1**2 - 4 * a1 * c1)) / 2
    a2, b2 = 4.0, 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + math.sqrt(b2**2 - 4 * a2 * c2)) / 2
    a3, b3 = 4 * min_overlap, -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + math.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def draw_gaussian(heatmap: np.ndarray, cx: int, cy: int, radius: int) -> None:
    """Element-wise max of a 2-D gaussian (sigma = diameter / 6) centred at (cx, cy) into ``heatmap``."""
    sigma = (2 * radius + 1) / 6
    ys, xs = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    g = np.exp(-(xs * xs + ys * ys) / (2 * sigma * sigma)).astype(np.float32)
    h, w = heatmap.shape
    left, right = min(cx, radius), min(w - cx, radius + 1)
    top, bottom = min(cy, radius), min(h - cy, radius + 1)
    region = heatmap[cy - top : cy + bottom, cx - left : cx + right]
    np.maximum(region, g[radius - top : radius + bottom, radius - left : radius + right], out=region)


def encode_image(
    boxes: np.ndarray, labels: np.ndarray, num_classes: int, out_hw: tuple[int, int], stride: int
) -> dict[str, np.ndarray]:
    """One image's boxes (input pixels) → heatmap, flat centre indices, log sizes, offsets, mask."""
    h, w = out_hw
    heat = np.zeros((num_classes, h, w), np.float32)
    index = np.zeros(MAX_OBJECTS, np.int64)
    size = np.zeros((MAX_OBJECTS, 2), np.float32)
    offset = np.zeros((MAX_OBJECTS, 2), np.float32)
    mask = np.zeros(MAX_OBJECTS, np.float32)
    # Larger boxes first so a small box's centre wins a shared cell (it has fewer cells to claim).
    order: np.ndarray | list[int] = (
        np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])) if len(boxes) else []
    )
    for k, i in enumerate(list(order)[:MAX_OBJECTS]):
        x1, y1, x2, y2 = (float(v) / stride for v in boxes[i])
        bw, bh = x2 - x1, y2 - y1
        if bw <= 0 or bh <= 0:
            continue
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        ix, iy = min(int(cx), w - 1), min(int(cy), h - 1)
        radius = max(0, int(gaussian_radius(math.ceil(bh), math.ceil(bw))))
        draw_gaussian(heat[int(labels[i])], ix, iy, radius)
        index[k] = iy * w + ix
        size[k] = (math.log(bw), math.log(bh))
        offset[k] = (cx - ix, cy - iy)
        mask[k] = 1.0
    return {"heatmap": heat, "index": index, "size": size, "offset": offset, "mask": mask}


def collate_detection(
    samples: Sequence[dict[str, np.ndarray]], num_classes: int, stride: int
) -> dict[str, torch.Tensor]:
    """Stack images and encode each sample's boxes into CenterNet targets."""
    images = np.stack([s["images"] for s in samples])
    out_hw = (images.shape[2] // stride, images.shape[3] // stride)
    enc = [encode_image(s["boxes"], s["labels"], num_classes, out_hw, stride) for s in samples]
    batch = {k: torch.from_numpy(np.stack([e[k] for e in enc])) for k in enc[0]}
    batch["images"] = torch.from_numpy(images)
    return batch


def collate_roi(samples: Sequence[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    return {
        k: torch.from_numpy(np.stack([np.asarray(s[k]) for s in samples])) for k in ("images", "roi_mask", "labels")
    }


def collate_classify(samples: Sequence[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.stack([np.asarray(s[k]) for s in samples])) for k in ("images", "labels")}


def collate_padded_roi(samples: Sequence[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """ROI samples of different image sizes (ObjectiX windows): zero-padded at the bottom/right to the largest.

    A padded pixel is 0 after normalization (the mean colour) and outside the ROI mask.
    """
    h = max(int(s["images"].shape[1]) for s in samples)
    w = max(int(s["images"].shape[2]) for s in samples)

    def pad(a: np.ndarray) -> np.ndarray:
        return np.pad(a, ((0, 0), (0, h - a.shape[1]), (0, w - a.shape[2])))

    return {
        "images": torch.from_numpy(np.stack([pad(s["images"]) for s in samples])),
        "roi_mask": torch.from_numpy(np.stack([pad(s["roi_mask"]) for s in samples])),
        "labels": torch.from_numpy(np.stack([np.asarray(s["labels"]) for s in samples])),
    }
