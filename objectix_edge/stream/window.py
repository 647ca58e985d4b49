"""An OpenCV window as a sink: shows the annotated frames; q, Esc or closing the window stops the run."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np

from objectix_edge.cascade.frame_cascade import FrameResult
from objectix_edge.errors import InputError
from objectix_edge.stream.sinks import Sink
from objectix_edge.stream.sources import Frame

QUIT_KEYS = (ord("q"), ord("Q"), 27)  # q or Esc
WINDOW_PROBE = "import cv2; cv2.namedWindow('objx-probe'); cv2.waitKey(1); cv2.destroyAllWindows()"


def check_display() -> None:
    """Raise InputError unless an OpenCV window can open here.

    OpenCV's Qt backend aborts the whole process when the display is unreachable, so a throw-away child
    process tries first.
    """
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise InputError(
            "--show needs a display (DISPLAY/WAYLAND_DISPLAY is not set); use --headless, or --save out.mp4"
        )
    try:
        probe = subprocess.run([sys.executable, "-c", WINDOW_PROBE], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise InputError(
            "--show: opening a window did not finish in 30 s; check the display or use --headless"
        ) from None
    if probe.returncode != 0:
        lines = [line for line in probe.stderr.strip().splitlines() if line.strip()] or [
            f"exit code {probe.returncode}"
        ]
        raise InputError(f"--show: OpenCV cannot open a window here ({lines[0].strip()}); use --headless")


class WindowSink(Sink):
    """An OpenCV window showing the annotated frames; q, Esc or closing the window stops the run."""

    needs_overlay = True

    def __init__(self, title: str = "objx-edge") -> None:
        check_display()
        self.title = title
        cv2.namedWindow(title, cv2.WINDOW_NORMAL)
        self._open = True

    def write(self, frame: Frame, result: FrameResult, overlay: np.ndarray | None) -> bool:
        cv2.imshow(self.title, overlay if overlay is not None else frame.image)
        key = cv2.waitKey(1) & 0xFF
        visible = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1
        return key not in QUIT_KEYS and visible

    def close(self) -> None:
        if self._open:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)  # let the GUI thread process the close
            self._open = False
