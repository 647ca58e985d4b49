"""Rich progress bar for training: step count, epoch, loss, learning rate, ETA."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class TrainProgress:
    """A no-op when disabled (non-main DDP ranks, tests that ask for quiet)."""

    def __init__(self, total: int, completed: int, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("[bold]epoch {task.fields[epoch]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]:.4f}  lr {task.fields[lr]:.2e}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self._task = self._progress.add_task("train", total=total, completed=completed, epoch=0, loss=0.0, lr=0.0)

    def advance(self, epoch: int, loss: float, lr: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, epoch=epoch + 1, loss=loss, lr=lr)

    def __enter__(self) -> TrainProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
