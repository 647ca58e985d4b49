"""`objx-edge run` never reports success on a broken output and never destroys a previous run's output.

A full disk is real here: the command runs in a child process whose file-size limit (RLIMIT_FSIZE, with
SIGXFSZ ignored so the kernel answers EFBIG instead of killing it) is too small for its outputs, which
is what a write to a full disk looks like to the writer; no root or tmpfs mount needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from tests.conftest import REPO_ROOT
from tests.disk_full import error_lines, run_limited
from tests.fixtures.media import shape_frames, write_video

DETECTOR = REPO_ROOT / "tests" / "assets" / "calib" / "detector.onnx"
FRAMES = 30


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frames, _ = shape_frames(FRAMES, seed=3)
    return write_video(tmp_path_factory.mktemp("media") / "in.avi", frames, "MJPG")


def test_a_video_that_cannot_be_written_stops_the_run_with_one_line(video: Path, tmp_path: Path) -> None:
    out = tmp_path / "small" / "out.avi"
    result = run_limited(["run", "--video", video, "--detector", DETECTOR, "--save", out], 60_000)
    assert result.returncode == 1, result.stderr
    assert error_lines(result.stderr) == [
        f"error: {out}: cannot write (disk full or a file-size limit reached); the run stopped; kept: no video (the unfinished file was removed)"
    ]
    assert f"wrote {out}" not in result.stdout
    assert "stopped by error" in result.stdout  # the summary of what was done is still printed
    assert list(out.parent.iterdir()) == []  # no half-written video, no temporary file


def test_a_jsonl_that_cannot_be_written_keeps_its_complete_lines(video: Path, tmp_path: Path) -> None:
    out = tmp_path / "dets.jsonl"
    result = run_limited(["run", "--video", video, "--detector", DETECTOR, "--jsonl", out], 3_000)
    assert result.returncode == 1, result.stderr
    (line,) = error_lines(result.stderr)
    assert "Traceback" not in result.stderr
    records = [json.loads(text) for text in out.read_text().splitlines()]  # every line a whole record
    assert 0 < len(records) < FRAMES and [r["frame"] for r in records] == list(range(len(records)))
    assert (
        line
        == f"error: {out}: cannot write (file too large); the run stopped; kept: {len(records)} complete records in {out}"
    )
    assert out.stat().st_size <= 3_000


def test_annotated_images_that_cannot_be_written_stop_the_run(video: Path, tmp_path: Path) -> None:
    out = tmp_path / "annotated"
    result = run_limited(["run", "--video", video, "--detector", DETECTOR, "--save", out], 2_000)  # < one JPEG
    assert result.returncode == 1, result.stderr
    assert error_lines(result.stderr) == [
        f"error: {out / 'frame_000000.jpg'}: cannot write (file too large); the run stopped; "
        f"kept: 0 annotated images in {out}"
    ]
    assert list(out.iterdir()) == []  # the temporary file of the failed image is gone


def test_a_previous_runs_outputs_are_refused_unless_overwrite(tmp_path: Path) -> None:
    photos = REPO_ROOT / "samples" / "coco" / "images"
    out, jsonl = tmp_path / "annotated", tmp_path / "dets.jsonl"
    args = ["run", "--images", photos, "--detector", DETECTOR, "--save", out, "--jsonl", jsonl]
    first = CliRunner().invoke(app, [str(a) for a in args])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    lines = jsonl.read_text()
    again = CliRunner().invoke(app, [str(a) for a in args])
    assert again.exit_code == 1
    assert again.stderr.strip() == (
        f"error: {out}: --save holds annotated images from a previous run; "
        "pass --overwrite to replace it, or choose another path"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before and jsonl.read_text() == lines
    replaced = CliRunner().invoke(app, [*map(str, args), "--overwrite"])
    assert replaced.exit_code == 0, replaced.output

    def detections(text: str) -> list:
        return [json.loads(line)["detections"] for line in text.splitlines()]

    assert detections(jsonl.read_text()) == detections(lines)  # the same records, written again (not appended)
    assert sorted(p.name for p in out.iterdir()) == sorted(before)
