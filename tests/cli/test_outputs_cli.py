"""Every command refuses, before any work, an output path that is one of its inputs: one line, exit 1,
the input byte for byte as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from tests.conftest import REPO_ROOT

ASSETS = REPO_ROOT / "tests" / "assets" / "calib"
SAMPLES = REPO_ROOT / "samples" / "coco"


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """Copies of real inputs (a checkpoint, an ONNX file, a photo, a COCO JSON) in a scratch folder."""
    ann = next((SAMPLES / "annotations").glob("*.json"))
    photo = sorted((SAMPLES / "images").iterdir())[0]
    copies = {"pt": ASSETS / "detector.pt", "onnx": ASSETS / "detector.onnx", "image": photo, "ann": ann}
    return {k: Path(shutil.copy(v, tmp_path / v.name)) for k, v in copies.items()}


@pytest.mark.parametrize(
    ("args", "target", "option", "what"),
    [
        (["predict", "{onnx}", "--image", "{image}", "--json", "{image}"], "image", "--json", "--image"),
        (["predict", "{onnx}", "--image", "{image}", "--json", "{onnx}"], "onnx", "--json", "artifact"),
        (["eval", "{onnx}", "--data", "{dir}", "--ann", "{ann}", "--json", "{ann}"], "ann", "--json", "--ann"),
        (["export", "{pt}", "-o", "{pt}"], "pt", "-o", "checkpoint"),
        (
            ["parity", "{onnx}", "-r", "{pt}", "--data", "{dir}", "--ann", "{ann}", "--json", "{pt}"],
            "pt",
            "--json",
            "--reference",
        ),
        (["bench", "{onnx}", "--json", "{onnx}"], "onnx", "--json", "artifact"),
    ],
)
def test_an_output_equal_to_an_input_is_refused(
    inputs: dict[str, Path], tmp_path: Path, args: list[str], target: str, option: str, what: str
) -> None:
    names = {**{k: str(v) for k, v in inputs.items()}, "dir": str(tmp_path)}
    before = {p: p.read_bytes() for p in inputs.values()}
    result = CliRunner().invoke(app, [a.format(**names) for a in args])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().startswith(f"error: {inputs[target]}: {option} would overwrite the input {what}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in inputs.values()} == before


def test_a_json_output_that_is_a_folder_is_refused_before_the_work(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    result = CliRunner().invoke(
        app, ["predict", str(inputs["onnx"]), "--image", str(inputs["image"]), "--json", str(out)]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {out}: --json is a folder; give a file path"
    assert result.stdout == ""  # refused before the prediction was printed
