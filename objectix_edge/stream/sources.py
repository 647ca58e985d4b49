"""Frame sources for ``objx-edge run``: video files, image folders and a paced generator.

A source is opened, read and closed by one thread (the capture thread). ``read()`` returns the next
decoded Frame, ``None`` at the end, and counts frames it had to skip because they did not decode.
Live sources (cameras, streams: see ``live.py``) set ``live = True`` so the loop keeps only the newest
frame; files and folders are read in order, every frame.
"""

from __future__ import annotations

import abc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from objectix_edge.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
READ_RETRIES = 3  # consecutive failed grabs after which a video file is considered at its end


@dataclass(frozen=True)
class Frame:
    """One decoded BGR frame: its index in the source, wall-clock and media time, and origin."""

    index: int
    image: np.ndarray
    timestamp: float  # time.time() when captured
    captured_at: float  # time.perf_counter() when captured: latency is measured from here
    media_time: float | None = None  # seconds into a video file
    file: str | None = None  # image file name for folders


class FrameSource(abc.ABC):
    """Opened once, then read and closed by the capture thread. ``skipped`` counts undecodable frames."""

    live: bool = False

    def __init__(self, name: str, path: Path | None = None) -> None:
        self.name = name
        self.input_path = path  # the file or folder read (None: a device or stream): outputs never overwrite it
        self.skipped = 0
        self._opened = False

    @property
    def fps(self) -> float:
        """Nominal frame rate (0 when unknown)."""
        return 0.0

    def open(self) -> None:
        """Acquire the device or file (once); raises InputError naming it when that fails."""
        if not self._opened:
            self._open()
            self._opened = True

    def close(self) -> None:
        """Release the device or file (idempotent)."""
        if self._opened:
            self._opened = False
            self._close()

    def interrupt(self) -> None:  # noqa: B027 - optional: only blocking sources need it
        """Ask a blocking ``read`` (e.g. waiting to reconnect) to return soon; called from another thread."""

    @abc.abstractmethod
    def _open(self) -> None: ...

    def _close(self) -> None:  # noqa: B027 - optional: sources holding nothing open release nothing
        """Release what ``_open`` acquired."""

    @abc.abstractmethod
    def read(self) -> Frame | None:
        """The next frame, or None at the end of the source; raises InputError on unrecoverable damage."""

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def quiet_ffmpeg_logs() -> None:
    """Silence ffmpeg's per-packet messages (read when a capture opens): the loop counts and reports damage
    itself. An OPENCV_FFMPEG_LOGLEVEL set by the user wins."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def new_frame(index: int, image: np.ndarray, media_time: float | None = None, file: str | None = None) -> Frame:
    """A Frame stamped with the wall clock and the latency clock now."""
    return Frame(index, image, time.time(), time.perf_counter(), media_time, file)


class VideoFileSource(FrameSource):
    """A video file decoded by OpenCV/ffmpeg. Undecodable frames are skipped and counted; a file that
    ends before its declared frame count is reported as truncated or damaged.

    ``realtime``: read it as a camera would: frames are delivered at the file's frame rate whatever the
    consumer's speed, and the source is ``live`` (the loop keeps the newest frame, and the classifier runs
    asynchronously); ``pace_fps`` overrides the rate (a camera faster than the file's). ``loop``: start
    again at the end (frame indices keep counting), for soak runs.
    """

    def __init__(
        self, path: str | Path, realtime: bool = False, loop: bool = False, pace_fps: float | None = None
    ) -> None:
        super().__init__(str(path), Path(path))
        if pace_fps is not None and pace_fps <= 0:
            raise InputError(f"{path}: pace must be a positive frame rate, got {pace_fps}")
        self.path = Path(path)
        self.live = realtime
        self.loop = loop
        self.pace_fps = pace_fps
        self.passes = 0
        self._cap: cv2.VideoCapture | None = None
        self._fps = 0.0
        self._declared = 0
        self._last_index = -1
        self._offset = 0
        self._due = 0.0

    @property
    def fps(self) -> float:
        return self._fps

    def _open(self) -> None:
        if not self.path.is_file():
            raise InputError(f"{self.path}: video file not found; check the path")
        quiet_ffmpeg_logs()
        cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            raise InputError(
                f"{self.path}: OpenCV cannot open this video (damaged or unsupported codec); re-encode it, e.g. ffmpeg -i IN -c:v mjpeg OUT.avi"
            )
        self._cap = cap
        self._fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._declared = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        self._due = time.perf_counter()

    def read(self) -> Frame | None:
        frame = self._read_pass()
        if frame is None and self.loop and self._last_index >= 0:
            self._offset += self._last_index + 1
            self.passes += 1
            self._close()
            self._open()
            self._last_index = -1
            frame = self._read_pass()
        if frame is None:
            return None
        if self.live:
            # Pace against a schedule like a camera; one that was not read in time does not burst afterwards.
            now = time.perf_counter()
            if self._due > now:
                time.sleep(self._due - now)
            rate = self.pace_fps or (self._fps if self._fps > 0 else 30.0)
            self._due = max(self._due, now) + 1.0 / rate
            frame = new_frame(frame.index, frame.image, frame.media_time)  # stamped when delivered
        if self._offset:
            frame = Frame(frame.index + self._offset, frame.image, frame.timestamp, frame.captured_at, frame.media_time)
        return frame

    def _read_pass(self) -> Frame | None:
        if self._cap is None:
            raise InputError(f"{self.path}: the video is not open; call open() first")
        failed = False
        for _ in range(READ_RETRIES):
            # grab() decodes; after a damaged packet the next grab resumes at the following frame.
            if not self._cap.grab():
                failed = True
                continue
            ok, image = self._cap.retrieve()
            media_time = float(self._cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
            index = self._last_index + 1
            if failed and self._fps > 0:
                # ffmpeg's frame counter does not advance over frames it could not decode; the timestamp does.
                index = max(index, int(round(media_time * self._fps)))
            self.skipped += index - self._last_index - 1
            self._last_index = index
            if not ok or image is None:
                self.skipped += 1
                failed = True
                continue
            return new_frame(index, image, media_time)
        self._check_complete()
        return None

    def _check_complete(self) -> None:
        seen = self._last_index + 1
        # Some containers only estimate their frame count: allow a frame (or 1%) of slack before crying damage.
        if self._declared and self._declared - seen > max(1, self._declared // 100):
            self.skipped += self._declared - seen
            raise InputError(
                f"{self.path}: video ends at frame {seen} of {self._declared} declared (truncated or damaged); "
                "frames before the damage were processed — re-encode or re-record the file"
            )

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class ImageFolderSource(FrameSource):
    """Every image of a folder in name order; an unreadable image is skipped and counted."""

    def __init__(self, folder: str | Path, fps: float = 0.0, option: str | None = "--images") -> None:
        super().__init__(str(folder), Path(folder))
        self.folder = Path(folder)
        # The fix its errors name: the run command's option, or (None) footage given to any command.
        self.fix = f"point {option} at a folder of images" if option else "give a folder of frames or a video file"
        self._files: list[Path] = []
        self._next = 0
        self._fps = fps

    @property
    def fps(self) -> float:
        return self._fps

    def _open(self) -> None:
        if not self.folder.is_dir():
            raise InputError(f"{self.folder}: image folder not found; {self.fix}")
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise InputError(f"{self.folder}: holds no images ({', '.join(IMAGE_SUFFIXES)}); {self.fix}")

    def read(self) -> Frame | None:
        while self._next < len(self._files):
            index, path = self._next, self._files[self._next]
            self._next += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                self.skipped += 1
                continue
            return new_frame(index, image, file=path.name)
        return None


class GeneratorSource(FrameSource):
    """Frames made by ``make_frame(index)`` and delivered at ``fps`` like a camera (live by default).

    Used to drive the loop without hardware: a synthetic live scene, or a replay faster than inference.
    ``count`` ends the source after that many frames (None: until the loop stops).
    """

    def __init__(
        self,
        make_frame: Callable[[int], np.ndarray],
        fps: float,
        count: int | None = None,
        live: bool = True,
        name: str = "generator",
    ) -> None:
        super().__init__(name)
        if fps <= 0:
            raise InputError(f"{name}: fps must be positive, got {fps}")
        self.live = live
        self._make = make_frame
        self._period = 1.0 / fps
        self._fps = fps
        self._count = count
        self._next = 0
        self._due = 0.0

    @property
    def fps(self) -> float:
        return self._fps

    def _open(self) -> None:
        self._next = 0
        self._due = time.perf_counter()

    def read(self) -> Frame | None:
        if self._count is not None and self._next >= self._count:
            return None
        # Pace against a schedule, not by sleeping a fixed period, so the rate holds under load.
        now = time.perf_counter()
        if self._due > now:
            time.sleep(self._due - now)
        # A camera that was not read in time does not burst afterwards: restart the schedule.
        self._due = max(self._due, now) + self._period
        index = self._next
        self._next += 1
        return new_frame(index, self._make(index))
