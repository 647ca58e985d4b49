"""Safe file writing: every artifact is written to a temporary file beside it, then renamed."""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from objectix_edge.errors import InputError, OutputError

# The errors that mean "the output cannot be written there": the fix is more space or another folder.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS})
# torch.save reports a failed write as a RuntimeError of its zip writer, without the errno.
TORCH_WRITE_FAILURES = ("inline_container", "PytorchStreamWriter", "file write failed")


def _read_umask() -> int:
    """The process umask without changing it (os.umask can only be read by setting it, which races with
    threads creating files): Linux shows it in /proc/self/status; elsewhere it is read once, then kept."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return _umask_once()


@functools.cache
def _umask_once() -> int:
    umask = os.umask(0o022)  # the one set-and-restore, on systems without /proc only
    os.umask(umask)
    return umask


def user_cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/objectix-edge/<parts>`` (``~/.cache`` by default): never the current directory."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "objectix-edge", *parts)


def ensure_writable_dir(path: Path) -> None:
    """Create ``path``'s parent folder or raise InputError naming it."""
    make_output_dir(path.parent)


def make_output_dir(folder: Path) -> Path:
    """Create the output folder ``folder`` (and its parents) or raise InputError naming it: read-only
    (even for root: a read-only mount), not writable, or under a file."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{folder}: cannot create the output folder ({exc.strerror}); choose another output path"
        ) from exc
    if not os.access(folder, os.W_OK) or _read_only_mount(folder):
        raise InputError(f"{folder}: output folder is not writable; choose another output path")
    return folder


def _read_only_mount(folder: Path) -> bool:
    """os.access says yes to root on a read-only file system; statvfs knows."""
    with contextlib.suppress(OSError):
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    return False


def write_failure_reason(path: Path, exc: BaseException | None = None) -> str:
    """Why writing ``path`` failed, in words: the errno when known, else what the folder shows."""
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()
    with contextlib.suppress(OSError):
        if shutil.disk_usage(path.parent).free == 0:
            return os.strerror(errno.ENOSPC).lower()
    return "disk full or a file-size limit reached"


def write_failed(path: Path, exc: BaseException | None = None) -> OutputError:
    """The one-line error of an artifact that could not be written (its temporary file is removed)."""
    return OutputError(
        f"{path.parent}: cannot write {path.name} ({write_failure_reason(path, exc)}); nothing was written there: "
        "free space or write to another folder"
    )


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success rename it onto ``path``, else delete it.

    ``suffix`` ends the temporary name (writers such as cv2.VideoWriter pick the container from it).
    """
    path = Path(path)
    ensure_writable_dir(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as exc:
        if exc.errno in WRITE_ERRNOS:
            raise write_failed(path, exc) from exc
        raise
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; artifacts get the usual permissions of a new file (0666 less the umask).
    tmp.chmod(0o666 & ~_read_umask())
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        if exc.errno in WRITE_ERRNOS:
            raise write_failed(path, exc) from exc
        raise
    except RuntimeError as exc:
        if any(marker in str(exc) for marker in TORCH_WRITE_FAILURES):
            raise write_failed(path, exc) from exc
        raise
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
