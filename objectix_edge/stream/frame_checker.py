"""The contract a second opinion on live frames meets (``run --shadow``: serve/shadow.py's ShadowMonitor).

The stream sits below serve (and eval, whose judgement the shadow uses), so the frame loop knows the
checker only by this protocol: frames offered without waiting, finished checks collected, a summary at
the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np


class Recorded(Protocol):
    """Anything the loop writes into a frame's JSONL record."""

    def record(self) -> dict[str, Any]: ...


class SegmentVerdict(Recorded, Protocol):
    def describe(self) -> str: ...


class FrameChecker(Protocol):
    """A second opinion on some frames, offered without waiting (``run --shadow``: serve/shadow.py's
    ShadowMonitor). The stream sits below serve, so it knows the checker only by this contract."""

    def offer(self, frame: int, image: np.ndarray, rows: np.ndarray) -> None: ...

    def collect(self) -> tuple[Sequence[Recorded], SegmentVerdict | None]: ...

    def close(self) -> Any: ...
