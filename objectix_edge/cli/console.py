"""Shared rich consoles and the error printer used by every command."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from objectix_edge.calib.int8 import Int8Hooks
    from objectix_edge.deploy.context import DeployContext, StepRecord
    from objectix_edge.deploy.runner import DeployHooks

console = Console()
err_console = Console(stderr=True)


def say(*parts: str | tuple[str, str], style: str = "", stderr: bool = False) -> None:
    """One line of plain text; parts are strings or (text, style) pairs. No markup is parsed (paths may hold
    brackets) and no line break is inserted, so a path in it copies whole from the terminal."""
    (err_console if stderr else console).print(Text.assemble(*parts), style=style, highlight=False, soft_wrap=True)


def print_error(message: str) -> None:
    """One red line on stderr."""
    say(f"error: {message}", style="bold red", stderr=True)


class _NoteHandler(logging.Handler):
    """The library's warnings (e.g. which INT8 kernels a file runs with) as one yellow line on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        say(f"note: {record.getMessage()}", style="yellow", stderr=True)


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
            step=lambda msg: say(f"  {msg}"),  # the bar's own console: printed above the bar while it runs
        )
    finally:
        progress.stop()


STATUS_STYLE = {"ok": "green", "skipped": "yellow", "failed": "bold red", "not run": "dim"}


def console_hooks() -> DeployHooks:
    """A deployment's progress (deploy, demo): one line when a step starts, one when it ends, dim notes between."""
    from objectix_edge.deploy.runner import DeployHooks

    def start(name: str, title: str, index: int, total: int) -> None:
        say(f"[{index}/{total}] {name}: {title}…")

    def done(record: StepRecord) -> None:
        style = STATUS_STYLE.get(record.status.value, "")
        say(f"      {record.status.value} ({record.seconds:.1f} s): {record.message}", style=style)

    def note(message: str) -> None:
        say(f"      {message}", style="dim")

    return DeployHooks(start=start, done=done, note=note)


def finish(ctx: DeployContext) -> None:
    """Say where a deployment's report is (deploy, demo); a failed step ends in one red line and exit code 1."""
    from objectix_edge.deploy.deploy_report import REPORT_JSON, REPORT_MD

    say(f"report: {ctx.out / REPORT_MD} (figures in {ctx.out / REPORT_JSON})")
    failed = ctx.failed_step()
    if failed is not None:
        print_error(f"deploy step {failed.name!r} failed: {failed.message} (earlier artifacts kept in {ctx.out})")
        raise typer.Exit(1)
    if ctx.inconclusive:  # not a failure: the held-out images could not decide; the report says how many would
        say(
            "INCONCLUSIVE parity (more held-out images would decide it): " + "; ".join(ctx.inconclusive), style="yellow"
        )
