"""Annotated media outputs: a video file (one file, or closed segments that survive a kill) and an image folder.

A video can be written in closed segments (``segment_s``: ``out_000.mp4``, ``out_001.mp4``, ...): each is written under a
temporary name and renamed when complete, so a kill loses at most the open segment. Without segments the
video is one file renamed into place at the end (finite runs); a finished file is verified, because OpenCV
reports success on lost frames. Annotated image folders get each image atomically. A previous run's
segments are continued, never replaced; other outputs are refused unless ``overwrite``."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import cv2
import numpy as np

from objectix_edge.cascade.frame_cascade import FrameResult
from objectix_edge.errors import InputError, OutputError
from objectix_edge.fileio import atomic_path, ensure_writable_dir
from objectix_edge.stream.output_files import (
    ANY_TEMPORARY,
    first_free_segment,
    refuse_previous_output,
    remove_leftovers,
    segment_path,
    sink_write_failed,
    temporaries_of,
    video_complete,
)
from objectix_edge.stream.sinks import Sink
from objectix_edge.stream.sources import Frame

# Codecs every opencv-python wheel can write; the container follows the file's extension.
VIDEO_CODECS = {".mp4": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "FFV1"}


class VideoSink(Sink):
    """The annotated frames as a video at the source's frame rate; opened at the first frame (its size).

    ``segment_s``: start a new file every this many seconds of wall time (``STEM_000.ext``, ...), each
    renamed into place when closed; None: one file at ``path``, renamed into place at the end.
    """

    needs_overlay = True

    def __init__(self, path: str | Path, fps: float, segment_s: float | None = None, overwrite: bool = False) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in VIDEO_CODECS:
            raise InputError(
                f"{self.path}: cannot save video as {suffix or 'no extension'}; use one of {', '.join(VIDEO_CODECS)}, "
                "or a path without extension for a folder of annotated images"
            )
        if segment_s is not None and segment_s <= 0:
            raise InputError(f"--segment-seconds must be positive, got {segment_s}")
        if segment_s is None and not overwrite:
            refuse_previous_output(self.path, "--save", "a video")
        ensure_writable_dir(self.path)
        # Segments continue a killed run's numbering instead of replacing its closed files.
        self._first_segment = 0 if segment_s is None or overwrite else first_free_segment(self.path)
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
        self._stack_tmp: Path | None = None
        self._opened_at = 0.0
        self._in_segment = 0

    def segment_path(self, index: int) -> Path:
        return segment_path(self.path, index)

    def prepare(self) -> str | None:
        return remove_leftovers(self.path.parent, temporaries_of(self.path))

    def _open(self, size: tuple[int, int]) -> cv2.VideoWriter:
        if self.segment_s is not None:
            self._target = self.segment_path(self._first_segment + len(self.segments))
        # Keep the real extension on the temporary name: the writer picks the container from it.
        tmp = self._stack.enter_context(atomic_path(self._target, suffix=".tmp" + self.path.suffix))
        self._stack_tmp = tmp
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
        if not writer.write(image):  # OpenCV only warns; a False here is a frame that is not in the file
            raise self._failed()
        self.frames += 1
        self._in_segment += 1
        return True

    def _failed(self) -> OutputError:
        """Remove the file being written (it cannot be completed) and say what is kept."""
        error = sink_write_failed(self._target, None, self._kept())
        self._stack.__exit__(OutputError, error, None)  # deletes the temporary file instead of renaming it
        self._writer, self._stack = None, contextlib.ExitStack()
        return error

    def _kept(self) -> str:
        if not self.segments:
            return "no video (the unfinished file was removed)"
        listed = ", ".join(f"{p.name} ({n} frames)" for p, n in zip(self.segments, self.segment_frames, strict=True))
        return f"{len(self.segments)} closed segment(s): {listed}; the unfinished one was removed"

    def _finish_file(self) -> None:
        if self._writer is not None and self._in_segment:
            # The writer buffers and OpenCV's AVI writer ignores failed writes: a full disk may show only now.
            self._writer.release()
            if not video_complete(self._stack_tmp, self._in_segment):
                raise self._failed()
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

    def __init__(self, folder: str | Path, overwrite: bool = False) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder}: exists and is not a folder; --save a video file (.mp4) or a new folder")
        if not overwrite:
            refuse_previous_output(self.folder, "--save", "annotated images")
        self.frames = 0

    def prepare(self) -> str | None:
        return remove_leftovers(self.folder, ANY_TEMPORARY)

    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        name = frame.file or f"frame_{frame.index:06d}.jpg"
        path = self.folder / name
        # Encode first, then write the bytes ourselves: cv2.imwrite says only False, for a bad format and a
        # full disk alike; this way the format and the disk each get their own error.
        ok, encoded = cv2.imencode(path.suffix or ".jpg", overlay if overlay is not None else frame.image)
        if not ok:
            raise InputError(f"{path}: OpenCV cannot write this image format; --save to a video file instead")
        try:
            with atomic_path(path, suffix=".tmp" + path.suffix) as tmp:
                tmp.write_bytes(encoded.tobytes())
        except OutputError as exc:
            raise sink_write_failed(path, exc.__cause__, f"{self.frames} annotated images in {self.folder}") from exc
        self.frames += 1
        return True

    def outputs(self) -> list[Path]:
        return [self.folder] if self.frames else []


def save_sink(path: Path, fps: float, segment_s: float | None = None, overwrite: bool = False) -> Sink:
    """The ``--save`` target: a video by its extension (in segments of ``segment_s`` seconds when given),
    or a folder of annotated images (no extension)."""
    if path.is_dir() or not path.suffix:
        return ImageFolderSink(path, overwrite)
    return VideoSink(path, fps, segment_s, overwrite)
