"""Where processed frames go: a JSONL file, an annotated video file or image folder, an OpenCV window.

Files are written to a temporary name beside the target (objectix_edge.fileio) and renamed on close,
so a finished run leaves complete files and a failed one no half-written target. The JSONL file is
flushed after every record: it is complete up to the last processed frame whenever the run stops.
"""

from __future__ import annotations

import abc
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from objectix_edge.errors import InputError
from objectix_edge.fileio import atomic_path, ensure_writable_dir
from objectix_edge.pipeline.cascade import CascadeDetection, FrameResult
from objectix_edge.pipeline.sources import Frame

# Codecs every opencv-python wheel can write; the container follows the file's extension.
VIDEO_CODECS = {".mp4": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "FFV1"}
QUIT_KEYS = (ord("q"), ord("Q"), 27)  # q or Esc


def detection_record(item: CascadeDetection) -> dict[str, Any]:
    """One detection in original-image pixels, with the classifier's answer (None beyond top-K)."""
    det = item.detection
    roi = item.roi
    return {
        "box": [float(v) for v in det.box],
        "score": det.score,
        "class_index": det.class_index,
        "category_id": det.category_id,
        "name": det.name,
        "classifier": None
        if roi is None
        else {"class_index": roi.class_index, "category_id": roi.category_id, "name": roi.name, "score": roi.score},
    }


def frame_record(frame: Frame, result: FrameResult) -> dict[str, Any]:
    """The JSONL record of one processed frame."""
    h, w = frame.image.shape[:2]
    return {
        "frame": frame.index,
        "timestamp": frame.timestamp,
        "media_time": frame.media_time,
        "file": frame.file,
        "width": w,
        "height": h,
        "detections": [detection_record(d) for d in result.detections],
        "timings_ms": {k: round(v, 3) for k, v in result.timings_ms.items()},
    }


class Sink(abc.ABC):
    """Receives every processed frame on the loop's output thread."""

    needs_overlay = False

    @abc.abstractmethod
    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        """Consume one frame; False asks the loop to stop (e.g. q pressed)."""

    def close(self) -> None:  # noqa: B027 - optional: sinks without an output file have nothing to finalize
        """Finalize the output (idempotent)."""


class JsonlSink(Sink):
    """One JSON record per processed frame, flushed as it is written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.records = 0
        self._stack = contextlib.ExitStack()
        tmp = self._stack.enter_context(atomic_path(self.path))
        self._file = self._stack.enter_context(tmp.open("w", encoding="utf-8"))

    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        self._file.write(json.dumps(frame_record(frame, result)) + "\n")
        self._file.flush()
        self.records += 1
        return True

    def close(self) -> None:
        self._stack.close()


class VideoSink(Sink):
    """The annotated frames as a video at the source's frame rate; opened at the first frame (its size)."""

    needs_overlay = True

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in VIDEO_CODECS:
            raise InputError(
                f"{self.path}: cannot save video as {suffix or 'no extension'}; use one of {', '.join(VIDEO_CODECS)}, "
                "or a path without extension for a folder of annotated images"
            )
        ensure_writable_dir(self.path)
        self.fps = fps if fps > 0 else 30.0
        self.frames = 0
        self._fourcc = cv2.VideoWriter.fourcc(*VIDEO_CODECS[suffix])
        self._stack = contextlib.ExitStack()
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None

    def _open(self, size: tuple[int, int]) -> cv2.VideoWriter:
        # Keep the real extension on the temporary name: the writer picks the container from it.
        tmp = self._stack.enter_context(atomic_path(self.path, suffix=".tmp" + self.path.suffix))
        writer = cv2.VideoWriter(str(tmp), self._fourcc, self.fps, size)
        if not writer.isOpened():
            error = InputError(f"{self.path}: OpenCV cannot write this video format here; save as .avi (MJPG) instead")
            self._stack.__exit__(InputError, error, None)  # deletes the temporary file instead of renaming it
            raise error
        self._stack.callback(writer.release)  # runs before the rename registered above
        self._writer, self._size = writer, size
        return writer

    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        image = overlay if overlay is not None else frame.image
        h, w = image.shape[:2]
        writer = self._writer if self._writer is not None else self._open((w, h))
        if (w, h) != self._size:
            image = cv2.resize(image, self._size)  # a folder of mixed sizes still makes one video
        writer.write(image)
        self.frames += 1
        return True

    def close(self) -> None:
        self._stack.close()
        self._writer = None


class ImageFolderSink(Sink):
    """Each annotated frame as an image file: the source file's name for image folders, else frame_NNNNNN.jpg.

    The folder is created at the first frame, so a run that fails before it leaves nothing behind.
    """

    needs_overlay = True

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder}: exists and is not a folder; --save a video file (.mp4) or a new folder")
        self.frames = 0

    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        name = frame.file or f"frame_{frame.index:06d}.jpg"
        path = self.folder / name
        with atomic_path(path, suffix=".tmp" + path.suffix) as tmp:
            if not cv2.imwrite(str(tmp), overlay if overlay is not None else frame.image):
                raise InputError(f"{path}: OpenCV cannot write this image format; --save to a video file instead")
        self.frames += 1
        return True


def save_sink(path: Path, fps: float) -> Sink:
    """The ``--save`` target: a video by its extension, or a folder of annotated images (no extension)."""
    if path.is_dir() or not path.suffix:
        return ImageFolderSink(path)
    return VideoSink(path, fps)


WINDOW_PROBE = "import cv2; cv2.namedWindow('objx-probe'); cv2.waitKey(1); cv2.destroyAllWindows()"


def check_display() -> None:
    """Raise InputError unless an OpenCV window can open here.

    OpenCV's Qt backend aborts the whole process when the display is unreachable, so a throw-away child
    process tries first.
    """
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise InputError(
            "--show needs a display (DISPLAY/WAYLAND_DISPLAY is not set); use --headless, or --save out.mp4"
        )
    try:
        probe = subprocess.run([sys.executable, "-c", WINDOW_PROBE], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise InputError(
            "--show: opening a window did not finish in 30 s; check the display or use --headless"
        ) from None
    if probe.returncode != 0:
        lines = [line for line in probe.stderr.strip().splitlines() if line.strip()] or [
            f"exit code {probe.returncode}"
        ]
        raise InputError(f"--show: OpenCV cannot open a window here ({lines[0].strip()}); use --headless")


class WindowSink(Sink):
    """An OpenCV window showing the annotated frames; q, Esc or closing the window stops the run."""

    needs_overlay = True

    def __init__(self, title: str = "objx-edge") -> None:
        check_display()
        self.title = title
        cv2.namedWindow(title, cv2.WINDOW_NORMAL)
        self._open = True

    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        cv2.imshow(self.title, overlay if overlay is not None else frame.image)
        key = cv2.waitKey(1) & 0xFF
        visible = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1
        return key not in QUIT_KEYS and visible

    def close(self) -> None:
        if self._open:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)  # let the GUI thread process the close
            self._open = False
