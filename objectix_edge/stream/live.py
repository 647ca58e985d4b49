"""Live sources: a local camera (by index) and a network stream (RTSP or any ffmpeg URL).

Both are ``live``: the loop keeps only their newest frame. When the device or stream stops delivering,
the source reconnects with exponential backoff, saying so through ``notify``, and gives up with a
one-line error after ``ReconnectPolicy.attempts`` failed tries.
"""

from __future__ import annotations

import abc
import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2

from objectix_edge.errors import InputError
from objectix_edge.stream.sources import Frame, FrameSource, new_frame, quiet_ffmpeg_logs

Notify = Callable[[str], None]


@dataclass(frozen=True)
class ReconnectPolicy:
    """Delays between reconnect tries: ``initial_s``, then ×``factor`` up to ``max_s``; ``attempts`` tries."""

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 8.0
    attempts: int = 6
    failed_reads: int = 5  # consecutive failed reads that count as a dropped stream

    def delays(self) -> Iterator[float]:
        delay = self.initial_s
        for _ in range(self.attempts):
            yield delay
            delay = min(self.max_s, delay * self.factor)


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """OpenCV logs a warning per backend it tries for a missing camera; we raise one clear error instead."""
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


class LiveSource(FrameSource):
    """Reads a cv2.VideoCapture that may drop; subclasses say how to open it and how to name failures."""

    live = True

    def __init__(self, name: str, policy: ReconnectPolicy, notify: Notify | None) -> None:
        super().__init__(name)
        self.policy = policy
        self.reconnects = 0
        self._notify = notify or (lambda message: None)
        self._stop = threading.Event()
        self._cap: cv2.VideoCapture | None = None
        self._next = 0
        self._fps = 0.0

    @property
    def fps(self) -> float:
        return self._fps

    @abc.abstractmethod
    def _capture(self) -> cv2.VideoCapture:
        """A new capture of the device or stream (may be unopened)."""

    @abc.abstractmethod
    def _open_error(self) -> InputError:
        """The one-line error for a device or stream that does not open."""

    def _try_open(self) -> bool:
        quiet_ffmpeg_logs()
        with _quiet_opencv():
            cap = self._capture()
        if not cap.isOpened():
            cap.release()
            return False
        self._cap = cap
        self._fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        return True

    def _open(self) -> None:
        if not self._try_open():
            raise self._open_error()

    def read(self) -> Frame | None:
        while not self._stop.is_set():
            for _ in range(self.policy.failed_reads):
                ok, image = self._cap.read() if self._cap is not None else (False, None)
                if ok and image is not None:
                    index = self._next
                    self._next += 1
                    return new_frame(index, image)
                if self._stop.is_set():
                    return None
            self._reconnect()
        return None

    def _reconnect(self) -> None:
        self._close()
        for attempt, delay in enumerate(self.policy.delays(), start=1):
            self._notify(
                f"{self.name}: stream lost; reconnecting in {delay:.1f} s (attempt {attempt}/{self.policy.attempts})"
            )
            if self._stop.wait(delay):
                return
            if self._try_open():
                self.reconnects += 1
                self._notify(f"{self.name}: reconnected")
                return
        raise InputError(
            f"{self.name}: stream lost and {self.policy.attempts} reconnect attempts failed; check the camera or network and run again"
        )

    def interrupt(self) -> None:
        self._stop.set()

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class CameraSource(LiveSource):
    """A local camera by index (V4L2 on Linux); keeps the driver's buffer at one frame."""

    def __init__(self, index: int, policy: ReconnectPolicy = ReconnectPolicy(), notify: Notify | None = None) -> None:
        super().__init__(f"camera {index}", policy, notify)
        self.index = index

    def _capture(self) -> cv2.VideoCapture:
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        cap = cv2.VideoCapture(self.index, api)
        if cap.isOpened():
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return cap

    def _open_error(self) -> InputError:
        return InputError(
            f"camera {self.index}: no camera at this index could be opened; check that it is plugged in and free, or pass another --camera"
        )


class StreamSource(LiveSource):
    """A network stream (rtsp://, http://, or any URL ffmpeg opens) with bounded open and read timeouts."""

    def __init__(
        self,
        url: str,
        policy: ReconnectPolicy = ReconnectPolicy(),
        notify: Notify | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        super().__init__(url, policy, notify)
        self.url = url
        self.timeout_ms = int(timeout_s * 1000)

    def _capture(self) -> cv2.VideoCapture:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, self.timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, self.timeout_ms]
        return cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)

    def _open_error(self) -> InputError:
        return InputError(
            f"{self.url}: cannot open the stream (unreachable, wrong path or credentials); check the URL with ffplay and run again"
        )
