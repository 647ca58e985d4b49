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
from typing import Generic, TypeVar

import numpy as np

from objectix_edge.errors import InputError

Classify = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, dict[str, float]]]
Req = TypeVar("Req")
Ans = TypeVar("Ans")


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


class BoundedWorker(Generic[Req, Ans]):
    """Runs ``handle(request) -> answer`` on a daemon thread over a bounded queue (oldest dropped when full).

    Shared by the asynchronous ROI classifier and the shadow check (serve/shadow.py)."""

    def __init__(self, handle: Callable[[Req], Ans], capacity: int = 2, name: str = "objx-worker") -> None:
        if capacity < 1:
            raise InputError(f"worker queue size must be at least 1, got {capacity}")
        self.capacity = capacity
        self._handle = handle
        self._queue: collections.deque[Req] = collections.deque()
        self._answers: list[Ans] = []
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, request: Req, wait: bool = False) -> list[Req]:
        """Queue ``request``; returns the requests dropped to make room (oldest first). ``wait``: block until
        there is room instead (files, where every frame counts and nothing is live)."""
        self._raise_error()
        dropped = []
        with self._cond:
            while wait and len(self._queue) >= self.capacity and self._error is None and self._thread.is_alive():
                self._cond.wait(0.1)
            while len(self._queue) >= self.capacity:
                dropped.append(self._queue.popleft())
            self._queue.append(request)
            self._cond.notify_all()
        return dropped

    def take(self, raise_error: bool = True) -> list[Ans]:
        """The answers finished since the last call (in completion order); raises the worker's error."""
        if raise_error:
            self._raise_error()
        with self._cond:
            answers, self._answers = self._answers, []
        return answers

    @property
    def pending(self) -> int:
        """Requests queued or being handled."""
        with self._cond:
            return len(self._queue) + int(self._busy)

    def close(self, timeout: float = 5.0, drain: bool = False) -> list[Req]:
        """Stop after the request in progress (``drain``: after every queued one); returns the queued requests
        that were never started."""
        with self._cond:
            while drain and (self._queue or self._busy) and self._error is None and self._thread.is_alive():
                self._cond.wait(0.1)
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
                self._cond.notify_all()  # a blocked submit() has room now
            try:
                answer = self._handle(request)
            except BaseException as exc:  # noqa: BLE001 - re-raised on the submitting thread by take()/submit()
                self._error = exc
                return
            finally:
                with self._cond:
                    self._busy = False
            with self._cond:
                self._answers.append(answer)
                self._cond.notify_all()  # a draining close() may be waiting


class ClassifierWorker(BoundedWorker[ClassifyRequest, ClassifyAnswer]):
    """Runs ``classify(image, boxes) -> (probs, timings_ms)`` on a daemon thread over a bounded queue."""

    def __init__(self, classify: Classify, capacity: int = 2) -> None:
        def handle(request: ClassifyRequest) -> ClassifyAnswer:
            probs, timings = classify(request.image, request.boxes)
            return ClassifyAnswer(request, probs, timings, time.perf_counter())

        super().__init__(handle, capacity, "objx-classify")
