"""The one rule every command applies to its output paths before any work: never write over an input.

An output must not resolve (symlinks followed, hard links compared by inode) to an input of the command, nor
to an existing file inside an input folder; a file output must not be an existing folder. Checked up
front, so a mistake costs one line, not a run whose last step destroys what it read.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path

from objectix_edge.errors import InputError

Paths = Mapping[str, "str | Path | None"]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # also catches hard links, which realpath cannot see
    except OSError:
        return False


def _is(out: Path, given: Path) -> bool:
    """True when ``out`` and ``given`` are the same file or folder."""
    return os.path.realpath(out) == os.path.realpath(given) or _same_file(out, given)


def _inside(out: Path, given: Path) -> bool:
    """True when ``out`` is an existing file inside the input folder ``given``."""
    folder, real = Path(os.path.realpath(given)), Path(os.path.realpath(out))
    return folder.is_dir() and real.is_relative_to(folder) and real.exists()


def check_outputs(outputs: Paths, inputs: Paths, folders: Collection[str] = ()) -> None:
    """Raise InputError (one line naming both paths) when an output would overwrite an input.

    ``outputs`` and ``inputs`` map the option that gave each path (e.g. ``"--json"``) to it (None: not
    given). Outputs named in ``folders`` may be folders; any other output that is an existing folder is
    refused too, since writing a file there fails only after all the work.
    """
    seen: dict[str, str] = {}
    for out_name, out in outputs.items():
        if out is None:
            continue
        out = Path(out)
        real = os.path.realpath(out)
        if real in seen:
            raise InputError(f"{out}: given to both {seen[real]} and {out_name}; give each output its own path")
        seen[real] = out_name
        for match in (_is, _inside):  # name the input itself before the folder that holds it
            for in_name, given in inputs.items():
                if given is not None and match(out, Path(given)):
                    raise InputError(
                        f"{out}: {out_name} would overwrite the input {in_name} {given}; write the output elsewhere"
                    )
        if out_name not in folders and out.is_dir():
            raise InputError(f"{out}: {out_name} is a folder; give a file path")


def inside(folder: Path, name: str, source: str | Path) -> Path:
    """``folder / name`` for a file name read from data (``source``), refused (InputError) when it would
    land outside ``folder``: an absolute name, or one that climbs out with ``..``."""
    path = Path(name)
    target = folder / path
    escapes = path.is_absolute() or ".." in path.parts or not name.strip()
    if escapes or not Path(os.path.realpath(target)).is_relative_to(os.path.realpath(folder)):
        raise InputError(
            f"{source}: file_name {name!r} would be written outside {folder}; "
            "file names must be relative paths inside the image folder"
        )
    return target
