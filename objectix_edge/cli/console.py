"""Shared rich consoles and the error printer used by every command."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from objectix_edge.calib.int8 import Int8Hooks

console = Console()
err_console = Console(stderr=True)


def print_error(message: str) -> None:
    """One red line on stderr (markup off: paths may hold brackets)."""
    err_console.print(f"error: {message}", style="bold red", markup=False, highlight=False, soft_wrap=True)


class _NoteHandler(logging.Handler):
    """The library's warnings (e.g. which INT8 kernels a file runs with) as one yellow line on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        err_console.print(f"note: {record.getMessage()}", style="yellow", markup=False, highlight=False, soft_wrap=True)


def install_note_handler() -> None:
    """Route ``objectix_edge`` warnings to :class:`_NoteHandler` (idempotent)."""
    logger = logging.getLogger("objectix_edge")
    if not any(isinstance(h, _NoteHandler) for h in logger.handlers):
        handler = _NoteHandler(logging.WARNING)
        logger.addHandler(handler)


@contextmanager
def int8_progress() -> Iterator[Int8Hooks]:
    """Calibration hooks drawing a rich progress bar over the calibration images (shown from the first image
    count on); search steps print below it. Used by every command that may calibrate (calibrate, build-engine)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from objectix_edge.calib.int8 import Int8Hooks

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    task = progress.add_task("calibrating", total=None, visible=False)

    def start(total: int) -> None:
        progress.start()
        progress.update(task, total=total, visible=True)

    try:
        yield Int8Hooks(
            start=start,
            image=lambda: progress.advance(task),
            step=lambda msg: progress.console.print(f"  {msg}", highlight=False),
        )
    finally:
        progress.stop()
