"""Quiet third-party chatter without touching process-wide state.

``contextlib.redirect_stdout`` swaps ``sys.stdout`` for the whole process: while it is active, every other
thread's output (a run loop's status lines, a progress bar) is swallowed too. Here a module-level name
``print`` shadows the builtin inside the named modules only, so only their own prints are dropped; and a
logging filter drops only the records a named package logs through the root logger, instead of raising
the root logger's level for everyone.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_active: dict[str, int] = {}  # module name → contexts silencing it (threads may nest them)


def _discard(*args: Any, file: Any = None, **kwargs: Any) -> None:
    """print() inside a silenced module: stdout is dropped, an explicit other file still gets it."""
    if file is not None and file is not sys.stdout:
        builtins.print(*args, file=file, **kwargs)


@contextlib.contextmanager
def module_prints_silenced(*module_names: str) -> Iterator[None]:
    """Within the block, ``print`` in the named modules writes nothing (other code prints as usual)."""
    modules = [importlib.import_module(name) for name in module_names]
    with _lock:
        for module in modules:
            if _active.get(module.__name__, 0) == 0:
                module.print = _discard  # type: ignore[attr-defined]
            _active[module.__name__] = _active.get(module.__name__, 0) + 1
    try:
        yield
    finally:
        with _lock:
            for module in modules:
                _active[module.__name__] -= 1
                if _active[module.__name__] == 0:
                    del module.print  # type: ignore[attr-defined]


class _FromPackage(logging.Filter):
    """Drops records below ERROR logged from files of one package (its ``logging.warning`` calls)."""

    def __init__(self, path_part: str) -> None:
        super().__init__()
        self.path_part = path_part

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or self.path_part not in record.pathname.replace("\\", "/")


_installed: set[str] = set()


def quiet_root_warnings_from(path_part: str) -> None:
    """Drop the warnings a package logs on the root logger (``path_part`` of its files, e.g.
    ``"onnxruntime/quantization/"``); other records keep the level the application set. Idempotent."""
    with _lock:
        if path_part not in _installed:
            logging.getLogger().addFilter(_FromPackage(path_part))
            _installed.add(path_part)
