"""Library errors. The CLI turns each into one red line and exit code 1."""

from __future__ import annotations


class ObjxError(Exception):
    """Base of every error the user can fix; the message names the file and the fix."""


class InputError(ObjxError):
    """A file or argument given by the user is missing, malformed or of the wrong kind."""


class ArtifactError(ObjxError):
    """A checkpoint, ONNX file, cache or engine is unusable (corrupt, foreign, stale)."""


class MissingDependencyError(ObjxError):
    """An optional dependency (an extra) is not installed, or hardware it needs is absent."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f'{what} is not available: pip install "objectix-edge[{extra}]"')
        self.extra = extra


class BudgetExceededError(ObjxError):
    """An artifact's accuracy is outside the budget of its precision."""


class OutputError(ObjxError):
    """An output could not be written (disk full, file-size limit, read-only folder); names what was kept."""
