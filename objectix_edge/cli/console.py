"""Shared rich consoles and the error printer used by every command."""

from __future__ import annotations

import logging

from rich.console import Console

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
