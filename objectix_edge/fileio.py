"""Safe file writing: every artifact is written to a temporary file beside it, then renamed."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from objectix_edge.errors import InputError


def user_cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/objectix-edge/<parts>`` (``~/.cache`` by default): never the current directory."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "objectix-edge", *parts)


def ensure_writable_dir(path: Path) -> None:
    """Create ``path``'s parent folder or raise InputError naming it."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{parent}: cannot create the output folder ({exc.strerror}); choose another output path"
        ) from exc
    if not os.access(parent, os.W_OK):
        raise InputError(f"{parent}: output folder is not writable; choose another output path")


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success rename it onto ``path``, else delete it.

    ``suffix`` ends the temporary name (writers such as cv2.VideoWriter pick the container from it).
    """
    path = Path(path)
    ensure_writable_dir(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; artifacts get the usual permissions of a new file (0666 less the umask).
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """Load JSON or raise InputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} not found; check the path")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a valid {what} ({exc}); give a valid one") from exc
