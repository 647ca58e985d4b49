"""Where processed frames go: a JSONL file, an annotated video file or image folder, an OpenCV window.

Live outputs survive a crash. The JSONL file is written at its own path, one complete line per frame,
flushed as written (and fsynced every second), so a consumer can follow it and a kill loses at most
the line being written. A video can be written in closed segments (``segment_s``: ``out_000.mp4``,
``out_001.mp4``, ...): each is written under a temporary name and renamed when complete, so a kill
loses at most the open segment. Without segments the video is one file renamed into place at the end
(finite runs). Annotated image folders get each image atomically.
"""

from __future__ import annotations

import abc
import contextlib
import json
import os
import subprocess
import sys
import time
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
FSYNC_EVERY_S = 1.0


def detection_record(item: CascadeDetection) -> dict[str, Any]:
    """One detection in original-image pixels; beside the row: its track id and the classifier's label
    (None when never classified) with the frame its label comes from and how many answers it averages."""
    det = item.detection
    roi = item.roi
    return {
        "box": [float(v) for v in det.box],
        "score": det.score,
        "class_index": det.class_index,
        "category_id": det.category_id,
        "name": det.name,
        "track_id": item.track_id,
        "classifier": None
        if roi is None
        else {
            "class_index": roi.class_index,
            "category_id": roi.category_id,
            "name": roi.name,
            "score": roi.score,
            "frame": roi.frame,
            "votes": roi.votes,
        },
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
        **({"shadow": result.shadow} if result.shadow is not None else {}),
        **({"health": result.health} if result.health is not None else {}),
    }


class Sink(abc.ABC):
    """Receives every processed frame on the loop's output thread."""

    needs_overlay = False

    @abc.abstractmethod
    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        """Consume one frame; False asks the loop to stop (e.g. q pressed)."""

    def close(self) -> None:  # noqa: B027 - optional: sinks without an output file have nothing to finalize
        """Finalize the output (idempotent)."""

    def outputs(self) -> list[Path]:
        """The files written so far."""
        return []


class JsonlSink(Sink):
    """One JSON record per processed frame, at ``path`` itself: each line complete in one write, flushed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a folder; --jsonl needs a file path")
        ensure_writable_dir(self.path)
        self.records = 0
        self._file = self.path.open("w", encoding="utf-8")
        self._synced = time.monotonic()

    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        self._file.write(json.dumps(frame_record(frame, result)) + "\n")
        self._file.flush()
        self.records += 1
        if time.monotonic() - self._synced >= FSYNC_EVERY_S:  # survives a power cut too, within a second
            os.fsync(self._file.fileno())
            self._synced = time.monotonic()
        return True

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def outputs(self) -> list[Path]:
        return [self.path]


class VideoSink(Sink):
    """The annotated frames as a video at the source's frame rate; opened at the first frame (its size).

    ``segment_s``: start a new file every this many seconds of wall time (``STEM_000.ext``, ...), each
    renamed into place when closed; None: one file at ``path``, renamed into place at the end.
    """

    needs_overlay = True

    def __init__(self, path: str | Path, fps: float, segment_s: float | None = None) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in VIDEO_CODECS:
            raise InputError(
                f"{self.path}: cannot save video as {suffix or 'no extension'}; use one of {', '.join(VIDEO_CODECS)}, "
                "or a path without extension for a folder of annotated images"
            )
        if segment_s is not None and segment_s <= 0:
            raise InputError(f"--segment-seconds must be positive, got {segment_s}")
        ensure_writable_dir(self.path)
        self.fps = fps if fps > 0 else 30.0
        self.segment_s = segment_s
        self.frames = 0
        self.segments: list[Path] = []  # closed (complete) files
        self.segment_frames: list[int] = []
        self._fourcc = cv2.VideoWriter.fourcc(*VIDEO_CODECS[suffix])
        self._stack = contextlib.ExitStack()
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self._target = self.path
        self._opened_at = 0.0
        self._in_segment = 0

    def segment_path(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.stem}_{index:03d}{self.path.suffix}")

    def _open(self, size: tuple[int, int]) -> cv2.VideoWriter:
        if self.segment_s is not None:
            self._target = self.segment_path(len(self.segments))
        # Keep the real extension on the temporary name: the writer picks the container from it.
        tmp = self._stack.enter_context(atomic_path(self._target, suffix=".tmp" + self.path.suffix))
        writer = cv2.VideoWriter(str(tmp), self._fourcc, self.fps, size)
        if not writer.isOpened():
            error = InputError(f"{self.path}: OpenCV cannot write this video format here; save as .avi (MJPG) instead")
            self._stack.__exit__(InputError, error, None)  # deletes the temporary file instead of renaming it
            raise error
        self._stack.callback(writer.release)  # runs before the rename registered above
        self._writer, self._size = writer, size
        self._opened_at, self._in_segment = time.monotonic(), 0
        return writer

    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        image = overlay if overlay is not None else frame.image
        h, w = image.shape[:2]
        if (
            self._writer is not None
            and self.segment_s is not None
            and time.monotonic() - self._opened_at >= self.segment_s
        ):
            self._finish_file()
        if self._size is not None and (w, h) != self._size:
            image = cv2.resize(image, self._size)  # a folder of mixed sizes still makes one video
        writer = self._writer if self._writer is not None else self._open(self._size or (w, h))
        writer.write(image)
        self.frames += 1
        self._in_segment += 1
        return True

    def _finish_file(self) -> None:
        self._stack.close()  # release, then rename into place
        if self._writer is not None:
            self.segments.append(self._target)
            self.segment_frames.append(self._in_segment)
        self._writer = None
        self._stack = contextlib.ExitStack()

    def close(self) -> None:
        self._finish_file()

    def outputs(self) -> list[Path]:
        return list(self.segments)


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

    def outputs(self) -> list[Path]:
        return [self.folder] if self.frames else []


def save_sink(path: Path, fps: float, segment_s: float | None = None) -> Sink:
    """The ``--save`` target: a video by its extension (in segments of ``segment_s`` seconds when given),
    or a folder of annotated images (no extension)."""
    if path.is_dir() or not path.suffix:
        return ImageFolderSink(path)
    return VideoSink(path, fps, segment_s)


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
