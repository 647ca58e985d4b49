"""``vtest.avi`` (pedestrians, 768×576, 795 frames at 10 FPS) from Debian's ``opencv-doc`` package.

A real video nobody here made, for throughput and soak runs. Fetched with ``apt-get download
opencv-doc`` (no root needed) into the user cache folder when absent and unpacked with ``dpkg -x``;
never committed. Pass ``--vtest PATH`` to the scripts to use a copy you have.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from objectix_edge.errors import InputError
from objectix_edge.fileio import atomic_path, user_cache_dir

MEMBER = "usr/share/doc/opencv-doc/examples/data/vtest.avi"


def fetch_vtest(path: Path | None = None) -> Path:
    """``path`` when given, else the cached copy, downloading opencv-doc once to make it."""
    if path is not None:
        if not path.is_file():
            raise InputError(f"{path}: --vtest file not found")
        return path
    cached = user_cache_dir("media") / "vtest.avi"
    if cached.is_file():
        return cached
    if not (shutil.which("apt-get") and shutil.which("dpkg")):
        raise InputError("vtest.avi: needs apt-get and dpkg (Debian/Ubuntu) to fetch opencv-doc; pass --vtest PATH")
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(["apt-get", "download", "opencv-doc"], cwd=tmp, capture_output=True, text=True)
        debs = sorted(Path(tmp).glob("opencv-doc_*.deb"))
        if done.returncode != 0 or not debs:
            last = (done.stderr.strip().splitlines() or ["no .deb downloaded"])[-1]
            raise InputError(
                f"vtest.avi: apt-get download opencv-doc failed ({last}); run apt-get update, or pass --vtest PATH"
            )
        subprocess.run(["dpkg", "-x", str(debs[0]), str(Path(tmp) / "x")], check=True)
        source = Path(tmp) / "x" / MEMBER
        if not source.is_file():
            raise InputError(f"vtest.avi: {debs[0].name} has no {MEMBER}; pass --vtest PATH")
        with atomic_path(cached, suffix=".tmp.avi") as out:
            shutil.copyfile(source, out)
    return cached
