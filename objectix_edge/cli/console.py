"""Shared rich consoles and the error printer used by every command."""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def print_error(message: str) -> None:
    """One red line on stderr (markup off: paths may hold brackets)."""
    err_console.print(f"error: {message}", style="bold red", markup=False, highlight=False, soft_wrap=True)
