"""The output-path rule itself (objectix_edge.outputs), on real files, links and folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from objectix_edge.errors import InputError
from objectix_edge.outputs import check_outputs


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"jpeg")
    model = tmp_path / "model.onnx"
    model.write_bytes(b"onnx")
    return {"folder": folder, "image": folder / "a.jpg", "model": model}


def test_symlinks_hard_links_and_files_inside_an_input_folder_are_refused(
    files: dict[str, Path], tmp_path: Path
) -> None:
    link = tmp_path / "link.onnx"
    link.symlink_to(files["model"])
    hard = tmp_path / "hard.onnx"
    os.link(files["model"], hard)
    for out in (files["model"], link, hard):
        with pytest.raises(InputError, match="--json would overwrite the input --model"):
            check_outputs({"--json": out}, {"--model": files["model"]})
    with pytest.raises(InputError, match=r"a.jpg: --json would overwrite the input --images"):
        check_outputs({"--json": files["folder"] / "sub" / ".." / "a.jpg"}, {"--images": files["folder"]})
    assert files["model"].read_bytes() == b"onnx" and files["image"].read_bytes() == b"jpeg"


def test_new_files_pass_and_folders_only_where_allowed(files: dict[str, Path], tmp_path: Path) -> None:
    inputs = {"--model": files["model"], "--images": files["folder"], "--mask": None}
    check_outputs({"--json": files["folder"] / "new.json", "--csv": None}, inputs)  # new file in an input folder
    check_outputs({"--save": tmp_path / "out"}, inputs, folders=("--save",))
    with pytest.raises(InputError, match="--json is a folder; give a file path"):
        check_outputs({"--json": tmp_path}, inputs)
    with pytest.raises(InputError, match="given to both --json and --csv"):
        check_outputs({"--json": tmp_path / "x", "--csv": tmp_path / "x"}, inputs)
