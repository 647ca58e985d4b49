"""Where processed frames go: the Sink contract, each frame's JSONL record, and the JSONL file.

Annotated videos and image folders are ``media_sinks.py``'s, the OpenCV window ``window.py``'s.
Live outputs survive a crash. The JSONL file is written at its own path, one complete line per frame,
flushed as written (and fsynced every second), so a consumer can follow it and a kill loses at most
the line being written.

A failed write (disk full, a file-size limit) stops the run with an OutputError naming the file and what
is kept: the JSONL keeps its complete lines, closed segments and written images stay, a video file that
cannot be completed is removed. A previous run's output is never truncated or replaced unless
``overwrite``: segments continue its numbering, the other outputs are refused.
"""

from __future__ import annotations

import abc
import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.cascade.frame_cascade import CascadeDetection, FrameResult
from objectix_edge.errors import InputError
from objectix_edge.fileio import ensure_writable_dir
from objectix_edge.stream.output_files import (
    refuse_previous_output,
    sink_write_failed,
)
from objectix_edge.stream.sources import Frame

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

    def prepare(self) -> str | None:
        """Once every sink is built (none refused its path): remove what a killed run left; the notice."""
        return None

    def close(self) -> None:  # noqa: B027 - optional: sinks without an output file have nothing to finalize
        """Finalize the output (idempotent)."""

    def outputs(self) -> list[Path]:
        """The files written so far."""
        return []


class JsonlSink(Sink):
    """One JSON record per processed frame, at ``path`` itself: each line complete in one write.

    Written with ``os.write`` on an unbuffered descriptor, so a failed write raises at the line that
    failed (not later, in a flush), and the partial line is cut off again: the file holds whole records.
    """

    def __init__(self, path: str | Path, overwrite: bool = False) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a folder; --jsonl needs a file path")
        if not overwrite:
            refuse_previous_output(self.path, "--jsonl", "detections")
        ensure_writable_dir(self.path)
        self.records = 0
        self._size = 0
        self._failed = False
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        self._synced = time.monotonic()

    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        if self._fd is None:
            return True
        data = memoryview((json.dumps(frame_record(frame, result)) + "\n").encode())
        try:
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
            if time.monotonic() - self._synced >= FSYNC_EVERY_S:  # survives a power cut too, within a second
                os.fsync(self._fd)
                self._synced = time.monotonic()
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)  # shrinking needs no space: the file ends at a whole record
            self._failed = True
            self.close()
            raise sink_write_failed(self.path, exc, f"{self.records} complete records in {self.path}") from exc
        self._size += len(data)
        self.records += 1
        return True

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.fsync(fd)  # a file system with delayed allocation may report a full disk only here
            except OSError as exc:
                if not self._failed:  # after a failed write, that write's error is the one reported
                    raise sink_write_failed(
                        self.path, exc, f"{self.records} records, the last second's unsure"
                    ) from exc
            finally:
                os.close(fd)

    def outputs(self) -> list[Path]:
        return [self.path]
