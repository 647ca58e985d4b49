"""Foreign checkpoint formats → objectix-edge checkpoints; one module per format, ``import_checkpoint`` picks it."""

from __future__ import annotations

from objectix_edge.models.importers.common import IMPORT_FORMATS, ImportResult
from objectix_edge.models.importers.dispatch import import_checkpoint, import_to_checkpoint

__all__ = ["IMPORT_FORMATS", "ImportResult", "import_checkpoint", "import_to_checkpoint"]
