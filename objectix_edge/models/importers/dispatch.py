"""Which importer reads which format: ``import_checkpoint`` picks it and ``import_to_checkpoint`` saves the result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from objectix_edge.errors import InputError
from objectix_edge.fileio import ensure_writable_dir
from objectix_edge.models.checkpoint import save_checkpoint
from objectix_edge.models.importers import mobilelike, objectix, torchvision_cls
from objectix_edge.models.importers.common import (
    IMPORT_FORMATS,
    ImportResult,
    expect_format,
    read_foreign,
    split_state,
)

Importer = Callable[..., ImportResult]


def import_checkpoint(fmt: str, path: Path | str, **options: Any) -> ImportResult:
    """Read ``path`` as format ``fmt`` and return the model with every weight placed (nothing written)."""
    importers: dict[str, Importer] = {
        "objectix": objectix.import_objectix,
        "torchvision-classifier": torchvision_cls.import_torchvision_classifier,
        "mobilelike-det": mobilelike.import_mobilelike,
    }
    if fmt not in importers:
        raise InputError(f"unknown import format {fmt!r}; choose one of: {', '.join(IMPORT_FORMATS)}")
    path = Path(path)
    state, extras = split_state(read_foreign(path), path)
    expect_format(state, fmt, path)
    result = importers[fmt](state, path, **options)
    result.extras = extras
    return result


def import_to_checkpoint(fmt: str, path: Path | str, out: Path | str, **options: Any) -> tuple[Path, ImportResult]:
    """Import ``path`` and write our checkpoint to ``out`` (atomically, only when every key was placed).

    Training state found beside the weights (optimizer, lr, epoch, ...) is kept under
    ``train_state["imported"]`` for ``train --init-from``.
    """
    out = Path(out)
    if out.is_dir():
        raise InputError(f"{out}: is a folder; give a file path ending in .pt")
    result = import_checkpoint(fmt, path, **options)
    ensure_writable_dir(out)
    train_state = {"imported": {"format": fmt, "source": Path(path).name, **result.extras}}
    return save_checkpoint(out, result.model, train_state), result
