"""pipeline/source_factory.make_source: each kind of source option → its FrameSource, and the refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from objectix_edge.errors import InputError
from objectix_edge.stream.live import CameraSource, StreamSource
from objectix_edge.stream.source_factory import make_source
from objectix_edge.stream.sources import ImageFolderSource, VideoFileSource
from tests.fixtures.media import shape_frames, write_pngs, write_video


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    frames, _ = shape_frames(4)
    root = tmp_path_factory.mktemp("factory")
    return write_video(root / "clip.avi", frames), write_pngs(root / "frames", frames)


def test_video_file_becomes_a_video_source_that_reads_its_frames(media: tuple[Path, Path]) -> None:
    video, _ = media
    source = make_source(video=video, realtime=True, loop=True)
    assert type(source) is VideoFileSource
    assert source.live and source.loop  # realtime: read as a camera would
    plain = make_source(video=video)
    assert type(plain) is VideoFileSource and not plain.live and not plain.loop
    plain.open()
    try:
        assert plain.read() is not None
    finally:
        plain.close()


def test_image_folder_becomes_an_image_folder_source(media: tuple[Path, Path]) -> None:
    _, folder = media
    source = make_source(images=folder)
    assert type(source) is ImageFolderSource and not source.live


def test_camera_index_and_stream_url_become_live_sources_with_the_notifier() -> None:
    said: list[str] = []
    camera = make_source(camera=0, notify=said.append)
    assert type(camera) is CameraSource and camera.index == 0 and camera.live
    stream = make_source(rtsp="rtsp://127.0.0.1:1/none", notify=said.append)
    assert type(stream) is StreamSource and stream.live
    assert said == []  # nothing is opened until the run opens it


@pytest.mark.parametrize(
    ("given", "named"),
    [({}, "none"), ({"camera": 0, "rtsp": "rtsp://x"}, "--camera, --rtsp")],
)
def test_exactly_one_source_is_required(given: dict[str, object], named: str) -> None:
    with pytest.raises(InputError, match=f"give exactly one source.*got {named}"):
        make_source(**given)  # type: ignore[arg-type]


@pytest.mark.parametrize("flag", ["realtime", "loop"])
def test_realtime_and_loop_need_a_video_file(media: tuple[Path, Path], flag: str) -> None:
    with pytest.raises(InputError, match="--realtime and --loop read a video file"):
        make_source(images=media[1], **{flag: True})  # type: ignore[arg-type]
