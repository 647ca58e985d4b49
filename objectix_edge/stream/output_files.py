"""A run's output files on disk: what a killed run left behind, what a new run may not replace, and the
one-line error of a write that failed mid-run.

A live run may be killed (SIGKILL, power cut) and started again with the same command: the new run must
neither truncate the JSONL nor replace the closed segments of the old one, and the hidden temporary
files the old run had open are removed (and reported), since nothing will ever finish them.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import cv2

from objectix_edge.errors import InputError, OutputError
from objectix_edge.fileio import write_failure_reason


def segment_path(path: Path, index: int) -> Path:
    """``out.mp4`` → ``out_003.mp4``."""
    return path.with_name(f"{path.stem}_{index:03d}{path.suffix}")


def first_free_segment(path: Path) -> int:
    """The index after the highest closed segment of ``path`` already on disk (0 when none)."""
    pattern = re.compile(rf"{re.escape(path.stem)}_(\d{{3,}}){re.escape(path.suffix)}")
    indices = [int(m.group(1)) for p in _siblings(path) if (m := pattern.fullmatch(p.name))]
    return max(indices) + 1 if indices else 0


def _siblings(path: Path) -> list[Path]:
    return list(path.parent.iterdir()) if path.parent.is_dir() else []


def temporaries_of(path: Path) -> re.Pattern[str]:
    """Names of the hidden temporary files (``fileio.atomic_path``) of ``path`` and of its segments."""
    names = rf"{re.escape(path.name)}|{re.escape(path.stem)}_\d{{3,}}{re.escape(path.suffix)}"
    return re.compile(rf"\.(?:{names})\..+\.tmp.*")


ANY_TEMPORARY = re.compile(r"\..+\..+\.tmp.*")  # inside a folder of annotated images


def remove_leftovers(folder: Path, names: re.Pattern[str]) -> str | None:
    """Delete the temporary files named by ``names`` in ``folder`` that a killed run left; returns the
    notice saying so (None when there were none)."""
    removed = []
    for leftover in list(folder.iterdir()) if folder.is_dir() else []:
        if names.fullmatch(leftover.name) and leftover.is_file():
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
                removed.append(leftover.name)
    if not removed:
        return None
    return (
        f"{folder}: removed {len(removed)} unfinished temporary file(s) a killed run left: {', '.join(sorted(removed))}"
    )


def refuse_previous_output(path: Path, option: str, what: str) -> None:
    """Raise InputError when ``path`` holds a previous run's output (a non-empty file, or a folder with
    anything but the temporary files a killed run left)."""
    in_folder = path.is_dir() and any(not ANY_TEMPORARY.fullmatch(p.name) for p in path.iterdir())
    if in_folder or path.is_file() and path.stat().st_size > 0:
        raise InputError(
            f"{path}: {option} holds {what} from a previous run; pass --overwrite to replace it, or choose another path"
        )


def sink_write_failed(path: Path, exc: BaseException | None, kept: str) -> OutputError:
    """The one line that stops a run whose output could not be written: the file, why, and what is kept."""
    return OutputError(f"{path}: cannot write ({write_failure_reason(path, exc)}); the run stopped; kept: {kept}")


def video_complete(path: Path | None, frames: int) -> bool:
    """True when the video at ``path`` declares ``frames`` frames and its last frame decodes.

    The header alone is not enough (OpenCV's AVI writer patches the count into the header of a file
    truncated by a full disk); seeking to the last frame reads the end of the file, in milliseconds.
    """
    check = cv2.VideoCapture(str(path))
    try:
        if not check.isOpened() or int(check.get(cv2.CAP_PROP_FRAME_COUNT)) != frames:
            return False
        check.set(cv2.CAP_PROP_POS_FRAMES, frames - 1)
        return bool(check.read()[0])
    finally:
        check.release()
