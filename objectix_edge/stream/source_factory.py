"""The run's source options (camera index, video file, stream URL, image folder) → one FrameSource.

``objx-edge run`` parses its options and calls :func:`make_source`; the choice and its refusals live here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from objectix_edge.errors import InputError
from objectix_edge.stream.live import CameraSource, StreamSource
from objectix_edge.stream.sources import FrameSource, ImageFolderSource, VideoFileSource


def make_source(
    camera: int | None = None,
    video: Path | None = None,
    rtsp: str | None = None,
    images: Path | None = None,
    realtime: bool = False,
    loop: bool = False,
    notify: Callable[[str], None] | None = None,
) -> FrameSource:
    """Exactly one of the four sources → its FrameSource (not opened yet).

    ``realtime`` and ``loop`` read a video file (refused with any other source); ``notify`` receives a live
    source's status lines (reconnects)."""

    given = [
        name
        for name, value in (("--camera", camera), ("--video", video), ("--rtsp", rtsp), ("--images", images))
        if value is not None
    ]
    if len(given) != 1:
        raise InputError(
            f"give exactly one source: --camera INDEX, --video FILE, --rtsp URL or --images DIR (got {', '.join(given) or 'none'})"
        )
    if (realtime or loop) and video is None:
        raise InputError("--realtime and --loop read a video file; use them with --video FILE")
    if camera is not None:
        return CameraSource(camera, notify=notify)
    if rtsp is not None:
        return StreamSource(rtsp, notify=notify)
    if video is not None:
        return VideoFileSource(video, realtime=realtime, loop=loop)
    assert images is not None  # exactly one source was given
    return ImageFolderSource(images)
