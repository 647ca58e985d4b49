"""Broken or foreign artifacts are one line naming the file and what is wrong (exit 1), never a traceback,
and nothing is written: an empty ONNX, a text file named .pt, a malformed ModelSpec in ONNX metadata or
in a checkpoint, a spec that does not fit its graph, an ROI box off the image."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest
import torch
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.spec import SPEC_METADATA_KEY
from tests.conftest import REPO_ROOT

ASSETS = REPO_ROOT / "tests" / "assets" / "calib"
PHOTO = REPO_ROOT / "samples" / "coco" / "images" / "000000000071.jpg"


def one_error(args: list[str | Path]) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def with_spec(tmp_path: Path, edit: object, name: str = "det.onnx") -> Path:
    """The test detector's ONNX with its spec JSON replaced by ``edit`` (a dict of fields, or raw text)."""
    model = onnx.load(str(ASSETS / "detector.onnx"))
    for prop in model.metadata_props:
        if prop.key == SPEC_METADATA_KEY:
            spec = json.loads(prop.value)
            prop.value = edit if isinstance(edit, str) else json.dumps(spec | edit if isinstance(edit, dict) else edit)
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def test_empty_and_text_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    text = tmp_path / "notes.pt"
    text.write_text("hello, I am not a checkpoint\n")
    assert one_error(["predict", empty, "--image", PHOTO]).startswith(f"error: {empty}: ONNX Runtime cannot load it")
    readable = "is not a readable checkpoint (corrupt or truncated)"
    assert one_error(["predict", text, "--image", PHOTO]).startswith(f"error: {text}: {readable}")
    assert one_error(["export", text]).startswith(f"error: {text}: {readable}")
    assert one_error(["export", ASSETS / "detector.onnx"]) == (
        f"error: {ASSETS / 'detector.onnx'}: is an ONNX file already; export takes a checkpoint (.pt) "
        "from objx-edge train or import"
    )


def test_calibrate_fp16_refuses_an_empty_onnx_or_one_without_our_spec(tmp_path: Path) -> None:
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    assert one_error(["calibrate", empty, "--fp16"]) == (
        f"error: {empty}: holds no ONNX graph (empty or not an ONNX file); re-export it"
    )
    foreign = onnx.load(str(ASSETS / "detector.onnx"))
    del foreign.metadata_props[:]
    onnx.save(foreign, str(tmp_path / "foreign.onnx"))
    assert "has no objectix-edge model spec" in one_error(["calibrate", tmp_path / "foreign.onnx", "--fp16"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.onnx", "foreign.onnx"]  # nothing written


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ([1, 2, 3], "its model spec is malformed: the spec is a list, not an object of fields"),
        ({"spec_version": "abc"}, "spec_version is 'abc'; it must be a positive integer"),
        ("[" * 100_000 + "]" * 100_000, "its model spec is not valid JSON"),
        ({"input_size": [-5, -5]}, "input_size is [-5, -5]; each side must be an integer from 1 to 8192"),
        ({"input_size": [100000, 100000]}, "input_size is [100000, 100000]; each side must be an integer"),
        ({"categories": []}, "categories is []; it must list at least one category"),
        ({"pad_value": 1e30}, "pad_value is 1e+30; it must be an integer from 0 to 255"),
        ({"std": [0.2, 0.0, 0.2]}, "std[1] is 0.0; it must be a finite number from -10000 to 10000, not 0"),
        ({"mean": [0.5, 0.5]}, "mean is [0.5, 0.5]; it must hold 3 numbers, one per channel"),
        ({"task": "classify"}, "its output detections[-1, 50, 6] does not fit the model spec's task classify"),
    ],
    ids=["list", "version", "deep", "negative-size", "huge-size", "no-categories", "pad", "std0", "mean2", "task"],
)
def test_a_malformed_spec_in_onnx_metadata_names_its_field(tmp_path: Path, edit: object, expected: str) -> None:
    path = with_spec(tmp_path, edit)
    line = one_error(["predict", path, "--image", PHOTO])
    assert line.startswith(f"error: {path}: ") and expected in line, line


def test_a_malformed_spec_in_a_checkpoint_names_its_field(tmp_path: Path) -> None:
    payload = torch.load(ASSETS / "detector.pt", weights_only=True)
    payload["spec"]["model_kwargs"] = {**payload["spec"]["model_kwargs"], "wings": 2}
    bad_kwargs = tmp_path / "kwargs.pt"
    torch.save(payload, bad_kwargs)
    assert one_error(["export", bad_kwargs]) == (
        f"error: {bad_kwargs}: its model spec is malformed: model_kwargs has 'wings', which "
        f"{payload['spec']['name']} does not take; re-create it with objx-edge train/export"
    )
    payload["spec"]["model_kwargs"].pop("wings")
    payload["spec"]["pad_value"] = 1e30
    bad_pad = tmp_path / "pad.pt"
    torch.save(payload, bad_pad)
    assert "pad_value is 1e+30" in one_error(["predict", bad_pad, "--image", PHOTO])
    assert not list(tmp_path.glob("*.onnx"))


def test_an_roi_box_off_the_image_is_one_line(tmp_path: Path) -> None:
    classifier = shutil.copy(ASSETS / "classifier.onnx", tmp_path / "roi.onnx")
    line = one_error(["predict", classifier, "--image", PHOTO, "--box", "5000,5000,5100,5100"])
    assert (
        line
        == f"error: --box 5000,5000,5100,5100: lies outside {PHOTO} (640x426 pixels); give a box that overlaps the image"
    )


def test_external_data_pointing_outside_its_folder_is_one_line(tmp_path: Path) -> None:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones(4, np.float32), "w")
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    entry = weight.external_data.add()
    entry.key, entry.value = "location", "../../../etc/passwd"
    io = (
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
    )
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", *io, [weight])
    path = tmp_path / "ext.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    for mode in ("--fp16", "--int8"):
        line = one_error(["calibrate", path, mode, "--data", REPO_ROOT / "samples" / "coco" / "images"])
        assert line.startswith(f"error: {path}: is not a valid ONNX file (") and "points outside the directory" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ext.onnx"]
