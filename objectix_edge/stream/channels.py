"""Hand-over between the capture thread and the inference thread.

``OrderedChannel``: a bounded FIFO; the producer waits when it is full, so files and folders are
processed frame by frame, in order, with bounded memory. ``LatestChannel``: one slot; a new frame
replaces an unconsumed one, which is counted as dropped, so a live source's latency stays bounded by
one inference instead of growing with a backlog.
"""

from __future__ import annotations

import abc
import collections
import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Channel(abc.ABC, Generic[T]):
    """A closable hand-over with a condition variable; ``get`` returns None once closed and empty."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"channel capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.dropped = 0
        self._items: collections.deque[T] = collections.deque()
        self._closed = False
        self._cond = threading.Condition()

    @abc.abstractmethod
    def put(self, item: T, stop: threading.Event) -> bool:
        """Hand over ``item``; False if the channel closed or ``stop`` was set while waiting."""

    def get(self, timeout: float = 0.1) -> T | None:
        """The oldest item; None when nothing arrived within ``timeout`` or the channel is closed and empty."""
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout)
            if not self._items:
                return None
            item = self._items.popleft()
            self._cond.notify_all()
            return item

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def finished(self) -> bool:
        """Closed and drained: the consumer can stop."""
        with self._cond:
            return self._closed and not self._items


class OrderedChannel(Channel[T]):
    """Bounded FIFO: every item is delivered; the producer waits while it is full."""

    def put(self, item: T, stop: threading.Event) -> bool:
        with self._cond:
            while len(self._items) >= self.capacity:
                if self._closed or stop.is_set():
                    return False
                self._cond.wait(0.05)
            if self._closed:
                return False
            self._items.append(item)
            self._cond.notify_all()
            return True


class LatestChannel(Channel[T]):
    """Keeps only the newest item; items replaced before anyone took them are counted in ``dropped``."""

    def __init__(self) -> None:
        super().__init__(1)

    def put(self, item: T, stop: threading.Event) -> bool:
        with self._cond:
            if self._closed:
                return False
            if self._items:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self._cond.notify_all()
            return True
