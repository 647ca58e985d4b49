"""Real media for the run-loop tests: synthetic-shape frames written as OpenCV videos and PNG folders,
damaged copies of them, and the reference answer of a Runner called directly on one frame."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from objectix_edge.data.synth import synth_coco_dict
from objectix_edge.pipeline.postprocess import to_original
from objectix_edge.pipeline.preprocess import preprocess_detector_batch
from objectix_edge.runtime.base import Runner, TensorInfo
from objectix_edge.spec import Category

FRAME_HW = (120, 160)  # the trained detector's 3:4 training images, scaled down: fast and still detectable
FPS = 10.0


SHAPES = (Category(1, "circle"), Category(2, "square"), Category(3, "triangle"))  # the synthetic set's classes


def shape_frames(n: int, seed: int = 7) -> tuple[list[np.ndarray], list[list[dict]]]:
    """``n`` synthetic frames of circles/squares/triangles and the ground-truth annotations of each."""
    data, frames = synth_coco_dict(n, seed, FRAME_HW)
    per_image: list[list[dict]] = [[] for _ in frames]
    for ann in data["annotations"]:
        per_image[ann["image_id"] - 1].append(ann)
    return frames, per_image


def write_video(path: Path, frames: list[np.ndarray], fourcc: str = "png ", fps: float = FPS) -> Path:
    """Write ``frames`` with cv2.VideoWriter ('png ' and 'FFV1' are lossless; 'MJPG' is not)."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"cv2.VideoWriter cannot write {path} with {fourcc!r}")
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def write_pngs(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"frame_{i:05d}.png"), frame)
    return folder


def decode_all(path: Path) -> list[np.ndarray]:
    """Every frame OpenCV decodes from ``path``."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def video_info(path: Path) -> tuple[int, int, int]:
    """(decoded frame count, width, height)."""
    frames = decode_all(path)
    h, w = frames[0].shape[:2] if frames else (0, 0)
    return len(frames), w, h


def truncated_copy(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def direct_rows(runner: Runner, frame: np.ndarray, conf: float) -> np.ndarray:
    """What the detector Runner itself says about ``frame``: rows (x1, y1, x2, y2, score, cls) in original
    pixels above ``conf``, in a canonical order (TopK orders ties arbitrarily)."""
    batch, boxes = preprocess_detector_batch([frame], runner.spec)
    raw = runner.infer({runner.spec.input_names[0]: batch})[runner.spec.output_names[0]]
    return canonical(to_original(np.asarray(raw)[0], boxes[0], conf))


def canonical(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    order = np.lexsort((rows[:, 3], rows[:, 2], rows[:, 1], rows[:, 0], rows[:, 5], -rows[:, 4]))
    return rows[order]


def record_rows(record: dict) -> np.ndarray:
    """A JSONL record's detections as canonical rows."""
    return canonical([[*d["box"], d["score"], d["class_index"]] for d in record["detections"]])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class SlowRunner(Runner):
    """A real Runner behind a deliberate delay: the classifier of a machine slower than the camera."""

    def __init__(self, inner: Runner, delay_s: float) -> None:
        super().__init__(inner.path, inner.spec)
        self.inner, self.delay_s, self.backend = inner, delay_s, inner.backend
        self.calls = 0

    def inputs(self) -> list[TensorInfo]:
        return self.inner.inputs()

    def outputs(self) -> list[TensorInfo]:
        return self.inner.outputs()

    def _infer(self, feeds: Mapping[str, Any]) -> dict[str, Any]:
        time.sleep(self.delay_s)
        self.calls += 1
        return self.inner.infer(feeds)
