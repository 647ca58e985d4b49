"""The ROI classifier on its own thread, so the detector never waits for it (live sources).

Requests (one per frame: that frame's ROIs due for classification) go into a bounded queue. When the
queue is full, the OLDEST pending request is dropped and handed back to the caller, who counts it and
makes its tracks due again; the newest frame is always the one that gets classified next. Answers are
collected by the inference thread at its next frame. ONNX Runtime releases the GIL, so the two
sessions really run side by side (each with its own thread budget).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from objectix_edge.errors import InputError

Classify = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, dict[str, float]]]


@dataclass(frozen=True)
class ClassifyRequest:
    """The due ROIs of one frame: boxes in original pixels and the track each belongs to."""

    frame: int
    image: np.ndarray
    boxes: np.ndarray
    track_ids: tuple[int, ...]
    submitted_at: float


@dataclass(frozen=True)
class ClassifyAnswer:
    """Softmax probabilities per ROI of a request, the stage timings and when it finished."""

    request: ClassifyRequest
    probs: np.ndarray
    timings_ms: dict[str, float]
    done_at: float

    @property
    def latency_ms(self) -> float:
        """Submission to answer: queueing plus classification."""
        return (self.done_at - self.request.submitted_at) * 1e3


class ClassifierWorker:
    """Runs ``classify(image, boxes) -> (probs, timings_ms)`` on a daemon thread over a bounded queue."""

    def __init__(self, classify: Classify, capacity: int = 2) -> None:
        if capacity < 1:
            raise InputError(f"classifier queue size must be at least 1, got {capacity}")
        self.capacity = capacity
        self._classify = classify
        self._queue: collections.deque[ClassifyRequest] = collections.deque()
        self._answers: list[ClassifyAnswer] = []
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="objx-classify", daemon=True)
        self._thread.start()

    def submit(self, request: ClassifyRequest) -> list[ClassifyRequest]:
        """Queue ``request``; returns the requests dropped to make room (oldest first)."""
        self._raise_error()
        dropped = []
        with self._cond:
            while len(self._queue) >= self.capacity:
                dropped.append(self._queue.popleft())
            self._queue.append(request)
            self._cond.notify_all()
        return dropped

    def take(self, raise_error: bool = True) -> list[ClassifyAnswer]:
        """The answers finished since the last call (in completion order); raises the worker's error."""
        if raise_error:
            self._raise_error()
        with self._cond:
            answers, self._answers = self._answers, []
        return answers

    @property
    def pending(self) -> int:
        """Requests queued or being classified."""
        with self._cond:
            return len(self._queue) + int(self._busy)

    def close(self, timeout: float = 5.0) -> list[ClassifyRequest]:
        """Stop after the request in progress; returns the queued requests that were never started."""
        with self._cond:
            self._closed = True
            left = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join(timeout)
        return left

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait(0.1)
                if self._closed:
                    return
                request = self._queue.popleft()
                self._busy = True
            try:
                probs, timings = self._classify(request.image, request.boxes)
            except BaseException as exc:  # noqa: BLE001 - re-raised on the inference thread by take()/submit()
                self._error = exc
                return
            finally:
                with self._cond:
                    self._busy = False
            with self._cond:
                self._answers.append(ClassifyAnswer(request, probs, timings, time.perf_counter()))
