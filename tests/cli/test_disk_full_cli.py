"""export, calibrate and train on a full disk, data synth and deploy into a folder that cannot be made:
one line naming the folder, exit 1, nothing partial left."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from objectix_edge.cli.app import app
from tests.cli.test_train_eval_cli import TINY_DET_ARGS
from tests.conftest import REPO_ROOT
from tests.disk_full import error_lines, run_limited

ASSETS = REPO_ROOT / "tests" / "assets" / "calib"
LIMIT = 200_000  # below every model file these commands write


def assert_refused(result, folder: Path, name: str, reason: str = "file too large") -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert error_lines(result.stderr) == [
        f"error: {folder}: cannot write {name} ({reason}); nothing was written there: "
        "free space or write to another folder"
    ]


def test_export_on_a_full_disk(tmp_path: Path) -> None:
    out = tmp_path / "models"
    result = run_limited(["export", ASSETS / "detector.pt", "-o", out / "det.onnx"], LIMIT)
    assert_refused(result, out, "det.onnx")
    assert list(out.iterdir()) == []


def test_calibrate_fp16_on_a_full_disk(tmp_path: Path) -> None:
    model = Path(shutil.copy(ASSETS / "detector.onnx", tmp_path / "det.onnx"))
    result = run_limited(["calibrate", model, "--fp16"], LIMIT)
    assert_refused(result, tmp_path, "det.fp16.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["det.onnx"]


def test_train_on_a_full_disk(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", "--model", "mobilenet-det", "--data", synth_coco[0], "--ann", synth_coco[1]]
    args += ["--epochs", "1", "--batch", "16", "--out", out, "--no-progress", *TINY_DET_ARGS]
    result = run_limited(args, 20_000)  # the tiny detector's checkpoint is larger
    assert result.returncode == 1, result.stderr
    (line,) = error_lines(result.stderr)
    assert line.startswith(f"error: {out}: cannot write ") and "nothing was written there" in line
    assert not [p for p in out.iterdir() if p.suffix == ".pt" or p.name.startswith(".")]


def test_unwritable_output_folders_are_one_line(tmp_path: Path) -> None:
    # A folder under a file cannot be created by anyone, root included: portable, no mount needed.
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    samples = REPO_ROOT / "samples" / "coco"
    ann = next((samples / "annotations").glob("*.json"))
    for args, folder in (
        (["data", "synth", blocker / "synth", "--images", "2"], blocker / "synth" / "images"),
        (
            ["deploy", ASSETS / "detector.pt", "--data", samples / "images", "--ann", ann, "--out", blocker / "dep"],
            blocker / "dep",
        ),
    ):
        result = CliRunner().invoke(app, [str(a) for a in args])
        assert result.exit_code == 1, result.output
        assert result.stderr.strip() == (
            f"error: {folder}: cannot create the output folder (Not a directory); choose another output path"
        )
