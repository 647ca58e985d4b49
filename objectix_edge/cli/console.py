"""Shared rich consoles and the error printer used by every command."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from objectix_edge.calib.int8 import Int8Hooks
    from objectix_edge.deploy.context import DeployContext, StepRecord
    from objectix_edge.deploy.runner import DeployHooks

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


STATUS_STYLE = {"ok": "green", "skipped": "yellow", "failed": "bold red", "not run": "dim"}


def console_hooks() -> DeployHooks:
    """A deployment's progress (deploy, demo): one line when a step starts, one when it ends, dim notes between."""
    from objectix_edge.deploy.runner import DeployHooks

    def start(name: str, title: str, index: int, total: int) -> None:
        console.print(f"[{index}/{total}] {name}: {title}…", markup=False, highlight=False)

    def done(record: StepRecord) -> None:
        style = STATUS_STYLE.get(record.status.value, "")
        console.print(
            f"      {record.status.value} ({record.seconds:.1f} s): {record.message}",
            style=style,
            markup=False,
            highlight=False,
        )

    def note(message: str) -> None:
        console.print(f"      {message}", style="dim", markup=False, highlight=False)

    return DeployHooks(start=start, done=done, note=note)


def finish(ctx: DeployContext) -> None:
    """Say where a deployment's report is (deploy, demo); a failed step ends in one red line and exit code 1."""
    from objectix_edge.deploy.deploy_report import REPORT_JSON, REPORT_MD

    console.print(f"report: {ctx.out / REPORT_MD} (figures in {ctx.out / REPORT_JSON})", markup=False, highlight=False)
    failed = ctx.failed_step()
    if failed is not None:
        print_error(f"deploy step {failed.name!r} failed: {failed.message} (earlier artifacts kept in {ctx.out})")
        raise typer.Exit(1)
    if ctx.inconclusive:  # not a failure: the held-out images could not decide; the report says how many would
        console.print(
            "INCONCLUSIVE parity (more held-out images would decide it): " + "; ".join(ctx.inconclusive),
            style="yellow",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
