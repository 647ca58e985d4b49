"""Overlay drawing: boxes, detector + classifier labels, and a heads-up line with FPS and stage times."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from objectix_edge.cascade.frame_cascade import CascadeDetection

# Short names keep the heads-up line on one row at 640 px.
HUD_STAGES = {
    "preprocess": "pre",
    "detector": "det",
    "postprocess": "post",
    "track": "trk",
    "roi_crop": "roi",
    "classifier": "cls",
    "latency": "lat",
}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def class_colour(index: int) -> tuple[int, int, int]:
    """A stable, well-separated BGR colour per class index (golden-ratio hue steps)."""
    hue = int((index * 0.618033988749895 % 1.0) * 179)
    hsv = np.array([[[hue, 220, 255]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def label_text(item: CascadeDetection) -> str:
    """``#id name score`` of the tracker and detector, then ``| name score`` of the classifier's label."""
    det = item.detection
    text = f"{det.name} {det.score:.2f}"
    if item.track_id is not None:
        text = f"#{item.track_id} {text}"
    if item.roi is not None:
        text += f" | {item.roi.name} {item.roi.score:.2f}"
    return text


def _put_label(image: np.ndarray, text: str, x: int, y: int, colour: tuple[int, int, int], scale: float) -> None:
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    y = max(y, th + base + 2)  # keep labels of boxes at the top edge inside the image
    x = max(0, min(x, image.shape[1] - tw - 3))  # and labels of boxes at the right edge
    cv2.rectangle(image, (x, y - th - base - 2), (x + tw + 2, y), colour, -1)
    cv2.putText(image, text, (x + 1, y - base - 1), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)


def hud_text(fps: float, stages_ms: Mapping[str, float], dropped: int = 0) -> str:
    """``FPS 24.1 | pre 2.0 det 11.5 ... ms`` (+ drops for live sources)."""
    parts = [f"{short} {stages_ms[name]:.1f}" for name, short in HUD_STAGES.items() if name in stages_ms]
    text = f"FPS {fps:.1f} | " + " ".join(parts) + " ms"
    return text + (f" | dropped {dropped}" if dropped else "")


def draw_overlay(image_bgr: np.ndarray, detections: Sequence[CascadeDetection], hud: str) -> np.ndarray:
    """A copy of the frame with every box, its labels and the heads-up line."""
    out = image_bgr.copy()
    scale = max(0.35, min(out.shape[:2]) / 900)
    for item in detections:
        x1, y1, x2, y2 = (int(round(v)) for v in item.detection.box)
        colour = class_colour(item.detection.class_index)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, 2 if item.roi is not None else 1)
        _put_label(out, label_text(item), x1, y1, colour, scale)
    _put_label(out, hud, 0, 0, (255, 255, 255), scale)  # y is clamped to the text height
    return out
