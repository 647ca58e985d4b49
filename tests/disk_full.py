"""Run ``objx-edge`` in a child process that cannot write a file larger than a limit: a real write
failure (RLIMIT_FSIZE with SIGXFSZ ignored, so writes fail with EFBIG as on a full disk), without root."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def run_limited(args: list[str | Path], limit_bytes: int, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """``objx-edge ARGS`` in a child that cannot write a file larger than ``limit_bytes``."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "300"}
    return subprocess.run(
        [sys.executable, "-m", "objectix_edge", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limit,
        timeout=timeout_s,
    )


def error_lines(stderr: str) -> list[str]:
    """The ``error:`` lines of a command's stderr (one expected)."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]
