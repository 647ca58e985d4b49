"""Footage without labels: a video file or a folder of frames, split into frames to calibrate on and a
held-out stretch to judge on, and read back frame by frame.

The split is by time, not by random choice: neighbouring frames of a video are near-duplicates, so a
random split would judge on frames the calibration has all but seen. Calibration samples evenly from
the first part; the last ``holdout`` fraction is kept for judging, after a gap of about one second
(at least ``every`` frames) so the first judged frame is not a twin of the last calibrated one.
Everything is deterministic (no seed): the same file gives the same frames on every machine.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from objectix_edge.errors import InputError
from objectix_edge.stream.sources import IMAGE_SUFFIXES, FrameSource, ImageFolderSource, VideoFileSource

DEFAULT_HOLDOUT = 0.25  # share of the footage (its end) kept for judging; never calibrated on


@dataclass(frozen=True)
class FootagePlan:
    """Which frames of ``source`` calibrate and which stretch ``[holdout_start, frames)`` judges."""

    source: str
    sha256: str  # of the video file; of the sorted (name, sha256) list for a folder
    frames: int  # frames decoded (files listed)
    fps: float  # nominal rate (0 when unknown, e.g. a folder)
    calib_frames: tuple[int, ...]
    holdout_start: int
    every: int | None = None
    skipped: int = 0  # frames that did not decode (counted, never silently dropped)

    @property
    def holdout(self) -> tuple[int, int]:
        return self.holdout_start, self.frames

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "frames": self.frames,
            "fps": self.fps,
            "every": self.every,
            "skipped": self.skipped,
            "calib_frames": list(self.calib_frames),
            "holdout": list(self.holdout),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FootagePlan:
        return cls(
            source=str(data["source"]),
            sha256=str(data["sha256"]),
            frames=int(data["frames"]),
            fps=float(data["fps"]),
            calib_frames=tuple(int(i) for i in data["calib_frames"]),
            holdout_start=int(data["holdout"][0]),
            every=None if data.get("every") is None else int(data["every"]),
            skipped=int(data.get("skipped", 0)),
        )


def open_footage(path: Path) -> FrameSource:
    """A video file or an image folder as a frame source (read in order, every frame)."""
    path = Path(path)
    if path.is_dir():
        return ImageFolderSource(path, option=None)
    if not path.is_file():
        raise InputError(f"{path}: no such video file or frame folder; pass footage of your camera")
    return VideoFileSource(path)


def footage_sha256(path: Path) -> str:
    """The file's sha256, or for a folder the sha256 of its images' names and contents (name order)."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    outer = hashlib.sha256()
    for file in files:
        inner = hashlib.sha256()
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                inner.update(chunk)
        if path.is_file():
            return inner.hexdigest()
        outer.update(f"{file.name}\0{inner.hexdigest()}\n".encode())
    return outer.hexdigest()


def count_frames(path: Path) -> tuple[int, float, int]:
    """(frames that decode, nominal fps, frames skipped): a declared count is only an estimate in many
    containers, so the frames are decoded once and counted."""
    with open_footage(path) as source:
        last = -1
        while (frame := source.read()) is not None:
            last = frame.index
        return last + 1, source.fps, source.skipped


def even_indices(start: int, stop: int, count: int) -> list[int]:
    """``count`` indices spread evenly over ``[start, stop)`` (the middle of each of ``count`` equal parts)."""
    span = stop - start
    count = max(0, min(count, span))
    return sorted({start + int(math.floor((k + 0.5) * span / count)) for k in range(count)}) if count else []


def plan_footage(
    path: Path, num_frames: int, every: int | None = None, holdout: float = DEFAULT_HOLDOUT
) -> FootagePlan:
    """Sample ``num_frames`` calibration frames evenly (or every ``every``-th frame, at most ``num_frames``
    of them, evenly thinned) from the footage before its held-out end."""
    path = Path(path)
    if not 0.0 <= holdout < 1.0:
        raise InputError(f"--holdout must be a fraction in [0, 1), got {holdout}")
    if every is not None and every < 1:
        raise InputError(f"--every must be at least 1 frame, got {every}")
    frames, fps, skipped = count_frames(path)
    if frames < 2:
        raise InputError(f"{path}: {frames} frame(s) decode; calibration needs footage with more frames")
    holdout_start = frames - int(round(frames * holdout)) if holdout > 0 else frames
    gap = max(every or 1, int(round(fps)) if fps > 0 else 1) if holdout > 0 else 0
    calib_stop = max(1, holdout_start - gap)
    if every is not None:
        chosen = list(range(0, calib_stop, every))
        if len(chosen) > num_frames:
            chosen = [chosen[i] for i in even_indices(0, len(chosen), num_frames)]
    else:
        chosen = even_indices(0, calib_stop, num_frames)
    return FootagePlan(str(path), footage_sha256(path), frames, fps, tuple(chosen), holdout_start, every, skipped)


def read_frames(path: Path, indices: Sequence[int]) -> Iterator[tuple[int, np.ndarray]]:
    """(index, BGR frame) of each wanted frame, in order, decoding the footage sequentially (seeking is
    not frame-exact in many codecs). A wanted frame that does not decode is skipped; the caller counts
    what came back."""
    wanted = sorted(set(indices))
    if not wanted:
        return
    last = wanted[-1]
    keep = set(wanted)
    with open_footage(path) as source:
        while (frame := source.read()) is not None and frame.index <= last:
            if frame.index in keep:
                yield frame.index, frame.image
