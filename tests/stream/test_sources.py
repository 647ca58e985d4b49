"""Frame sources and channels on real OpenCV files: order, damage, reconnects, newest-frame hand-over."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from objectix_edge.errors import InputError
from objectix_edge.stream.channels import LatestChannel, OrderedChannel
from objectix_edge.stream.live import CameraSource, ReconnectPolicy, StreamSource
from objectix_edge.stream.sources import GeneratorSource, ImageFolderSource, VideoFileSource
from tests.fixtures.media import shape_frames, truncated_copy, write_pngs, write_video

FAST_RECONNECT = ReconnectPolicy(initial_s=0.01, factor=2.0, max_s=0.05, attempts=3, failed_reads=2)


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return shape_frames(12)[0]


def read_all(source) -> list:
    with source:
        out = []
        while (frame := source.read()) is not None:
            out.append(frame)
        return out


def test_lossless_video_gives_every_frame_in_order(tmp_path: Path, frames: list[np.ndarray]) -> None:
    path = write_video(tmp_path / "v.avi", frames, "png ")
    got = read_all(VideoFileSource(path))
    assert [f.index for f in got] == list(range(len(frames)))
    assert all(np.array_equal(f.image, ref) for f, ref in zip(got, frames, strict=True))
    assert got[3].media_time == pytest.approx(0.3)


def test_truncated_video_yields_frames_before_the_damage_then_a_clear_error(
    tmp_path: Path, frames: list[np.ndarray]
) -> None:
    path = truncated_copy(write_video(tmp_path / "v.avi", frames, "png "), tmp_path / "cut.avi", 0.5)
    source = VideoFileSource(path)
    got = []
    with (
        source,
        pytest.raises(InputError, match=r"cut\.avi: video ends at frame \d+ of 12 declared \(truncated or damaged\)"),
    ):
        while (frame := source.read()) is not None:
            got.append(frame)
    assert 2 <= len(got) < 12
    assert [f.index for f in got] == list(range(len(got)))
    assert all(np.array_equal(f.image, ref) for f, ref in zip(got, frames[: len(got)], strict=True))


def test_undecodable_frame_in_the_middle_is_skipped_and_counted(tmp_path: Path, frames: list[np.ndarray]) -> None:
    path = write_video(tmp_path / "v.avi", frames, "MJPG")
    data = bytearray(path.read_bytes())
    # Zero the whole JPEG payload of the 6th frame (its AVI chunk stays valid): that frame cannot decode.
    starts = [i for i in range(len(data) - 2) if data[i : i + 3] == b"\xff\xd8\xff"]
    assert len(starts) == len(frames)
    data[starts[5] : starts[6] - 8] = bytes(starts[6] - 8 - starts[5])  # keep the next chunk header
    damaged = tmp_path / "damaged.avi"
    damaged.write_bytes(bytes(data))
    source = VideoFileSource(damaged)
    got = read_all(source)
    indices = [f.index for f in got]
    assert indices == sorted(set(indices))
    assert source.skipped >= 1
    assert len(got) + source.skipped == len(frames)
    assert 5 not in indices
    assert indices[-1] == len(frames) - 1  # reading went on after the damaged frame


def test_image_folder_in_name_order_and_skips_unreadable_images(tmp_path: Path, frames: list[np.ndarray]) -> None:
    folder = write_pngs(tmp_path / "imgs", frames[:5])
    (folder / "frame_00002.png").write_bytes(b"not a png at all")
    (folder / "notes.txt").write_text("ignored")
    source = ImageFolderSource(folder)
    got = read_all(source)
    assert [f.index for f in got] == [0, 1, 3, 4]
    assert [f.file for f in got] == ["frame_00000.png", "frame_00001.png", "frame_00003.png", "frame_00004.png"]
    assert source.skipped == 1
    assert np.array_equal(got[2].image, frames[3])


def test_missing_inputs_raise_one_line_errors(tmp_path: Path) -> None:
    for source, pattern in [
        (VideoFileSource(tmp_path / "nope.mp4"), "video file not found"),
        (ImageFolderSource(tmp_path), "holds no images"),
        (CameraSource(97), "camera 97: no camera at this index"),
        (StreamSource(str(tmp_path / "gone.avi"), FAST_RECONNECT, timeout_s=1.0), "cannot open the stream"),
    ]:
        with pytest.raises(InputError, match=pattern) as info:
            source.open()
        assert "\n" not in str(info.value)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match="cannot open this video"):
        VideoFileSource(garbage).open()


def test_stream_reconnects_with_backoff_and_gives_up_when_gone(tmp_path: Path, frames: list[np.ndarray]) -> None:
    # ffmpeg opens a file path like any stream URL: its end is a real dropped stream.
    path = write_video(tmp_path / "stream.avi", frames[:4], "png ")
    messages: list[str] = []
    source = StreamSource(str(path), FAST_RECONNECT, notify=messages.append, timeout_s=1.0)
    source.open()
    got = [source.read() for _ in range(10)]  # 4 frames, drop, reconnect, 4 more, drop, reconnect, ...
    assert source.live
    assert [f.index for f in got] == list(range(10))
    assert np.array_equal(got[5].image, frames[1])
    assert source.reconnects == 2
    assert any("stream lost; reconnecting in 0.0 s (attempt 1/3)" in m for m in messages)
    path.unlink()
    with pytest.raises(InputError, match="stream lost and 3 reconnect attempts failed"):
        while source.read() is not None:
            pass
    source.close()


def test_latest_channel_keeps_the_newest_and_counts_drops() -> None:
    channel: LatestChannel[int] = LatestChannel()
    stop = threading.Event()
    for i in range(5):
        assert channel.put(i, stop)
    assert channel.get(0.01) == 4
    assert channel.dropped == 4
    assert channel.get(0.01) is None
    channel.close()
    assert channel.finished
    assert not channel.put(5, stop)


def test_ordered_channel_delivers_everything_in_order_with_backpressure() -> None:
    channel: OrderedChannel[int] = OrderedChannel(2)
    stop = threading.Event()
    producer = threading.Thread(target=lambda: [channel.put(i, stop) for i in range(50)] and channel.close())
    producer.start()
    got = []
    while not channel.finished:
        item = channel.get(0.05)
        if item is not None:
            got.append(item)
            assert len(channel) <= 2
    producer.join()
    assert got == list(range(50))
    assert channel.dropped == 0


def test_generator_source_paces_frames_like_a_camera() -> None:
    source = GeneratorSource(lambda i: np.full((8, 8, 3), i, np.uint8), fps=200.0, count=20)
    got = read_all(source)
    assert [int(f.image[0, 0, 0]) for f in got] == list(range(20))
    span = got[-1].captured_at - got[0].captured_at
    assert span >= 19 / 200.0 * 0.9  # delivered at the camera's rate, not as fast as possible
    with pytest.raises(InputError, match="fps must be positive"):
        GeneratorSource(lambda i: np.zeros((8, 8, 3), np.uint8), fps=0)
