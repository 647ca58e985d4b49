"""`objx-edge run` end to end: real ONNX/torch artifacts, real OpenCV videos and folders, real signals."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.export.onnx import export_onnx
from objectix_edge.models.checkpoint import save_checkpoint
from objectix_edge.models.registry import create_model
from objectix_edge.runtime.open import open_runner
from objectix_edge.spec import Category
from tests.conftest import REPO_ROOT, TINY_CLASSIFIER
from tests.fixtures.media import (
    decode_all,
    direct_rows,
    record_rows,
    shape_frames,
    truncated_copy,
    video_info,
    write_pngs,
    write_video,
)

N_FRAMES = 10
TIME_FIELDS = ("timestamp", "media_time", "file", "timings_ms")


@pytest.fixture(scope="module")
def artifacts(trained_detector_ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(trained detector as ONNX, tiny ROI classifier checkpoint over the same shape categories)."""
    out = tmp_path_factory.mktemp("run_artifacts")
    detector = export_onnx(trained_detector_ckpt, out / "det.onnx")
    torch.manual_seed(0)
    shapes = (Category(1, "circle"), Category(2, "square"), Category(3, "triangle"))
    classifier = save_checkpoint(out / "roi.pt", create_model("resnet50-roi", categories=shapes, **TINY_CLASSIFIER))
    return detector, classifier


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same frames as a lossless video and as a PNG folder: both sources see identical pixels."""
    out = tmp_path_factory.mktemp("run_media")
    frames, _ = shape_frames(N_FRAMES, seed=11)
    return write_video(out / "shapes.avi", frames, "png "), write_pngs(out / "frames", frames)


def invoke(*args: str | Path):
    return CliRunner().invoke(app, ["run", *map(str, args)])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def without_times(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in TIME_FIELDS}


def test_video_and_image_folder_give_the_same_records_as_the_runner(
    artifacts: tuple[Path, Path], media: tuple[Path, Path], tmp_path: Path
) -> None:
    detector, classifier = artifacts
    video, folder = media
    # Tracking off, every box of every frame: the records must equal direct Runner calls frame by frame.
    common = ["--detector", detector, "--classifier", classifier, "--headless", "--conf", "0.3", "--top-k", "3"]
    common += ["--no-track", "--reclassify-every", "1"]
    res_video = invoke("--video", video, *common, "--jsonl", tmp_path / "v.jsonl", "--save", tmp_path / "v.mp4")
    assert res_video.exit_code == 0, res_video.output
    assert "frames in 10 · processed 10 · dropped 0 · skipped (undecodable) 0" in res_video.stdout
    for stage in ("detector", "classifier", "roi_crop", "latency"):
        assert stage in res_video.stdout
    res_folder = invoke("--images", folder, *common, "--jsonl", tmp_path / "f.jsonl")
    assert res_folder.exit_code == 0, res_folder.output

    from_video, from_folder = read_jsonl(tmp_path / "v.jsonl"), read_jsonl(tmp_path / "f.jsonl")
    assert [r["frame"] for r in from_video] == list(range(N_FRAMES))
    assert [without_times(r) for r in from_video] == [without_times(r) for r in from_folder]
    assert from_folder[4]["file"] == "frame_00004.png" and from_video[4]["media_time"] == pytest.approx(0.4)
    assert sum(len(r["detections"]) for r in from_video) >= N_FRAMES  # the trained detector sees the shapes
    assert all(d["classifier"] is not None for r in from_video for d in r["detections"][:3])

    with open_runner(detector) as runner:
        for record, frame in zip(from_video, decode_all(video), strict=True):
            np.testing.assert_allclose(record_rows(record), direct_rows(runner, frame, 0.3), atol=1e-4)
    assert video_info(tmp_path / "v.mp4") == (N_FRAMES, 160, 120)


def test_truncated_video_ends_with_a_clear_error_and_a_complete_jsonl(
    artifacts: tuple[Path, Path], media: tuple[Path, Path], tmp_path: Path
) -> None:
    cut = truncated_copy(media[0], tmp_path / "cut.avi", 0.5)
    good = len(decode_all(cut))
    result = invoke("--video", cut, "--detector", artifacts[0], "--jsonl", tmp_path / "cut.jsonl")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {cut}: video ends at frame {good} of {N_FRAMES} declared (truncated or damaged); frames before the damage were processed — re-encode or re-record the file"
    ]
    assert f"processed {good} ·" in result.stdout and "stopped by error" in result.stdout
    assert [r["frame"] for r in read_jsonl(tmp_path / "cut.jsonl")] == list(range(good))


def test_loop_starts_the_video_again_and_keeps_counting_frames(
    artifacts: tuple[Path, Path], media: tuple[Path, Path], tmp_path: Path
) -> None:
    result = invoke(
        "--video", media[0], "--loop", "--detector", artifacts[0], "--max-frames", "25", "--jsonl", tmp_path / "l.jsonl"
    )
    assert result.exit_code == 0, result.output
    records = read_jsonl(tmp_path / "l.jsonl")
    assert [r["frame"] for r in records] == list(range(25))
    # The second pass decodes the same pixels: the same detections.
    assert [d["box"] for d in records[12]["detections"]] == [d["box"] for d in records[2]["detections"]]


def test_missing_camera_exits_1_with_one_line(artifacts: tuple[Path, Path]) -> None:
    result = invoke("--camera", "93", "--detector", artifacts[0], "--headless")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: camera 93: no camera at this index could be opened; check that it is plugged in and free, or pass another --camera"
    ]


def test_stream_that_drops_is_reconnected_and_run_as_a_live_source(
    artifacts: tuple[Path, Path], media: tuple[Path, Path], tmp_path: Path
) -> None:
    # ffmpeg reads a file path like a stream URL; its end is a real dropped stream that must be reopened.
    result = invoke(
        "--rtsp", media[0], "--detector", artifacts[0], "--max-frames", "15", "--jsonl", tmp_path / "s.jsonl"
    )
    assert result.exit_code == 0, result.output
    assert f"{media[0]}: stream lost; reconnecting in 0.5 s (attempt 1/6)" in result.stderr
    assert f"{media[0]}: reconnected" in result.stderr
    frames = [r["frame"] for r in read_jsonl(tmp_path / "s.jsonl")]
    assert len(frames) == 15 and frames == sorted(set(frames))  # newest-frame policy: increasing, gaps allowed
    assert "stopped by max-frames" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give exactly one source"),
        (["--camera", "0", "--video", "x.mp4"], "give exactly one source: .* \\(got --camera, --video\\)"),
        (["--images", "{tmp}"], "holds no images"),
        (["--video", "{media}", "--conf", "1.5"], "--conf must be in \\[0, 1\\)"),
        (["--video", "{media}", "--save", "{tmp}/out.gif"], "cannot save video as .gif"),
        (
            ["--video", "{media}", "--classifier", "{detector}"],
            "is a detect model; --classifier needs a classifier",
        ),
        (["--video", "{media}", "--no-track", "--reclassify-every", "5"], "--reclassify-every 5 needs tracking"),
        (["--video", "{media}", "--threads", "2,x"], "--threads 2,x: give DET or DET,CLS"),
        (["--rtsp", "rtsp://x", "--realtime"], "--realtime and --loop read a video file"),
        (["--video", "{media}", "--save", "{tmp}/o.mp4", "--segment-seconds", "-1"], "--segment-seconds must be"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    args: list[str], message: str, artifacts: tuple[Path, Path], media: tuple[Path, Path], tmp_path: Path
) -> None:
    args = [a.format(media=media[0], tmp=tmp_path, detector=artifacts[0]) for a in args]
    result = invoke(*args, "--detector", artifacts[0])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert re.search(message, lines[0]), lines[0]
    assert not list(tmp_path.iterdir())  # nothing written


def test_ctrl_c_stops_cleanly_with_finalized_video_and_complete_jsonl(
    artifacts: tuple[Path, Path], tmp_path: Path
) -> None:
    frames, _ = shape_frames(4, seed=3)
    long_video = write_video(tmp_path / "long.avi", frames * 500, "MJPG")  # 2000 frames: far longer than the test waits
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "objectix_edge",
        "run",
        "--video",
        str(long_video),
        "--detector",
        str(artifacts[0]),
        "--headless",
        "--jsonl",
        str(out / "d.jsonl"),
        "--save",
        str(out / "d.mp4"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            jsonl = out / "d.jsonl"  # written at its own path, a line per frame, as the run goes
            if jsonl.exists() and jsonl.read_text().count("\n") >= 5:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted: finishing the frame in flight" in stderr
    assert "stopped by interrupt" in stdout
    records = read_jsonl(out / "d.jsonl")
    assert 5 <= len(records) < 2000
    assert [r["frame"] for r in records] == list(range(len(records)))
    assert f"processed {len(records)} ·" in stdout
    assert video_info(out / "d.mp4") == (len(records), 160, 120)  # finalized: every processed frame playable
    assert sorted(p.name for p in out.iterdir()) == ["d.jsonl", "d.mp4"]  # no temporary files left


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_live_run_stopped_by_a_signal_keeps_complete_jsonl_lines_and_playable_segments(
    sig: signal.Signals, artifacts: tuple[Path, Path], tmp_path: Path
) -> None:
    frames, _ = shape_frames(4, seed=3)
    long_video = write_video(tmp_path / "long.avi", frames * 500, "MJPG", fps=30.0)  # 66 s at its frame rate
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "objectix_edge", "run", "--video", str(long_video), "--realtime"]
    cmd += ["--detector", str(artifacts[0]), "--classifier", str(artifacts[1]), "--headless"]
    cmd += ["--jsonl", str(out / "d.jsonl"), "--save", str(out / "d.mp4"), "--segment-seconds", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "d_001.mp4").exists():  # two closed segments
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = (out / "d.jsonl").read_text()
    # A kill loses at most the line being written: every complete line parses, frames in order.
    records = [json.loads(line) for line in text.split("\n")[:-1]]
    frames_seen = [r["frame"] for r in records]
    assert len(records) >= 10 and frames_seen == sorted(set(frames_seen))
    segments = sorted(out.glob("d_[0-9][0-9][0-9].mp4"))
    assert [p.name for p in segments] == [f"d_{i:03d}.mp4" for i in range(len(segments))] and len(segments) >= 2
    counts = []
    for segment in segments:  # every closed segment plays: all its frames decode at the source's size
        n, w, h = video_info(segment)
        assert n > 0 and (w, h) == (160, 120), segment
        counts.append(n)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        assert sum(counts) <= len(records)
        leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
        assert len(leftovers) <= 1  # only the open segment is lost
        restart_after_a_kill(cmd, env, out, segments, text, leftovers)
    else:
        assert proc.returncode == 130, stderr
        assert "stopped by interrupt" in stdout and "classifier (async)" in stdout
        assert sum(counts) == len(records)  # finalized: the last segment is closed too
        assert sorted(p.name for p in out.iterdir()) == ["d.jsonl", *(p.name for p in segments)]


def restart_after_a_kill(
    cmd: list[str], env: dict[str, str], out: Path, segments: list[Path], jsonl: str, leftovers: list[str]
) -> None:
    """The same command again never truncates the killed run's JSONL nor replaces its closed segments."""
    before = {p: p.read_bytes() for p in segments}
    again = subprocess.run(cmd + ["--max-frames", "5"], capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"error: {out / 'd.jsonl'}: --jsonl holds detections from a previous run; "
        "pass --overwrite to replace it, or choose another path"
    )
    assert (out / "d.jsonl").read_text() == jsonl
    # With a new JSONL path the run goes on: segments continue the numbering, the killed run's open
    # segment (its hidden temporary file) is removed and reported.
    moved = [str(out / "d2.jsonl") if a == str(out / "d.jsonl") else a for a in cmd]
    again = subprocess.run(moved + ["--max-frames", "5"], capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert {p: p.read_bytes() for p in segments} == before
    assert (out / f"d_{len(segments):03d}.mp4").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    if leftovers:
        assert f"removed 1 unfinished temporary file(s) a killed run left: {leftovers[0]}" in " ".join(
            again.stderr.split()
        )


def test_real_photos_of_mixed_sizes_map_back_and_save_as_annotated_images(tmp_path: Path) -> None:
    # The bundled COCO photos (landscape and portrait, 375 to 640 px) through the coco-mini person detector.
    samples = REPO_ROOT / "samples" / "coco" / "images"
    detector = REPO_ROOT / "tests" / "assets" / "calib" / "detector.onnx"
    out = tmp_path / "annotated"
    result = invoke(
        "--images", samples, "--detector", detector, "--conf", "0.1", "--save", out, "--jsonl", tmp_path / "r.jsonl"
    )
    assert result.exit_code == 0, result.output
    records = read_jsonl(tmp_path / "r.jsonl")
    files = sorted(p.name for p in samples.iterdir())
    assert [r["file"] for r in records] == files
    assert sorted(p.name for p in out.iterdir()) == files  # no temporary files left
    with open_runner(detector) as runner:
        for record in records:
            photo = cv2.imread(str(samples / record["file"]))
            h, w = photo.shape[:2]
            assert (record["width"], record["height"]) == (w, h)
            assert cv2.imread(str(out / record["file"])).shape == photo.shape
            rows = record_rows(record)
            np.testing.assert_allclose(rows, direct_rows(runner, photo, 0.1), atol=1e-4)
            assert np.all(rows[:, [0, 2]] >= 0) and np.all(rows[:, [0, 2]] <= w)
            assert np.all(rows[:, [1, 3]] >= 0) and np.all(rows[:, [1, 3]] <= h)
    assert sum(len(r["detections"]) for r in records) > 0


@pytest.mark.parametrize(
    ("source", "output", "target"),
    [
        ("--images", "--save", "folder"),
        ("--video", "--save", "video"),
        ("--video", "--jsonl", "video"),
        ("--video", "--jsonl", "detector"),
        ("--images", "--jsonl", "image"),
    ],
)
def test_an_output_over_an_input_is_refused_before_any_work(
    artifacts: tuple[Path, Path], media: tuple[Path, Path], source: str, output: str, target: str
) -> None:
    video, folder = media
    first_image = sorted(folder.iterdir())[0]
    paths = {"folder": folder, "video": video, "detector": artifacts[0], "image": first_image}
    given = {"--images": folder, "--video": video}[source]
    inputs = [video, artifacts[0], *sorted(folder.iterdir())]
    before = {p: p.read_bytes() for p in inputs}
    result = invoke(source, given, "--detector", artifacts[0], output, paths[target])
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith(f"error: {paths[target]}: {output} would overwrite the input")
    assert {p: p.read_bytes() for p in inputs} == before
    assert sorted(folder.iterdir()) == sorted(p for p in inputs if p.parent == folder)


@pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")), reason="needs Xvfb and xdotool")
def test_show_opens_a_window_that_q_closes(artifacts: tuple[Path, Path], tmp_path: Path) -> None:
    # A real X server (virtual) and a real key press: the window sink, not a stand-in.
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "800x600x24"], stderr=subprocess.DEVNULL)
    frames, _ = shape_frames(4, seed=5)
    long_video = write_video(tmp_path / "long.avi", frames * 500, "MJPG")
    env = {**os.environ, "DISPLAY": display, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    env.pop("WAYLAND_DISPLAY", None)
    cmd = [sys.executable, "-m", "objectix_edge", "run", "--video", str(long_video), "--detector", str(artifacts[0])]
    proc = subprocess.Popen([*cmd, "--show"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        window = ""
        deadline = time.monotonic() + 60
        while not window and time.monotonic() < deadline and proc.poll() is None:
            found = subprocess.run(
                ["xdotool", "search", "--name", "objx-edge"], capture_output=True, text=True, env=env
            )
            window = found.stdout.split()[0] if found.stdout.split() else ""
            time.sleep(0.2)
        assert window, proc.communicate(timeout=30)
        subprocess.run(["xdotool", "windowactivate", "--sync", window], env=env, capture_output=True)
        subprocess.run(["xdotool", "key", "--window", window, "q"], env=env, check=True)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        for p in (proc, xvfb):
            if p.poll() is None:
                p.kill()
    assert proc.returncode == 0, stderr
    assert "stopped by user" in stdout
    processed = int(re.search(r"processed (\d+)", stdout).group(1))
    assert 0 < processed < 2000
