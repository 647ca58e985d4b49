"""The imported ObjectiX model through the deployment chain: ONNX with dynamic batch, height and width, its
TensorRT optimization profile over them, INT8 calibration on real images of several sizes, and parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.export.onnx import export_onnx
from objectix_edge.models.checkpoint import load_checkpoint
from objectix_edge.models.importers import import_to_checkpoint
from objectix_edge.runtime.batch_profile import BatchProfile
from objectix_edge.runtime.profile import SideProfile, input_shapes
from tests.models.seed_reference import ObjectixRef, spread_weights


@pytest.fixture(scope="module")
def objectix_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("objectix_chain")
    torch.save(
        spread_weights(ObjectixRef(multiply=False, layers=(1, 1, 1, 1)), seed=2).state_dict(), folder / "o.torch"
    )
    ckpt, _ = import_to_checkpoint("objectix", folder / "o.torch", folder / "objectix.pt")
    return export_onnx(ckpt, folder / "objectix.onnx")


def test_objectix_onnx_has_dynamic_batch_height_width(objectix_onnx: Path) -> None:
    graph = onnx.load(str(objectix_onnx)).graph
    dims = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in graph.input}
    assert dims == {"images": ["batch", 3, "height", "width"], "roi_mask": ["batch", 1, "height", "width"]}
    model = load_checkpoint(objectix_onnx.with_suffix(".pt")).model
    session = ort.InferenceSession(str(objectix_onnx), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for batch, h, w in ((1, 96, 128), (3, 150, 70)):  # more than one batch size and image size
        x = rng.standard_normal((batch, 3, h, w), dtype=np.float32)
        m = (rng.random((batch, 1, h, w)) > 0.5).astype(np.float32)
        with torch.no_grad():
            expected = model(torch.from_numpy(x), torch.from_numpy(m)).numpy()
        got = session.run(None, {"images": x, "roi_mask": m})[0]
        assert np.abs(got - expected).max() <= 1e-4 * np.abs(expected).max()


def test_objectix_profile_spans_sides_from_the_spec(objectix_onnx: Path) -> None:
    shapes = input_shapes(objectix_onnx, BatchProfile(1, 2, 8))
    assert shapes["images"] == {"min": [1, 3, 64, 64], "opt": [2, 3, 640, 640], "max": [8, 3, 640, 640]}
    assert shapes["roi_mask"]["max"] == [8, 1, 640, 640]
    custom = input_shapes(objectix_onnx, BatchProfile(1, 1, 1), SideProfile(32, 64, 128))
    assert custom["roi_mask"]["opt"] == [1, 1, 64, 64]


def test_objectix_calibrate_and_parity_on_images_of_several_sizes(objectix_onnx: Path, coco_mini: Path) -> None:
    data, ann = coco_mini / "images", coco_mini / "annotations" / "instances_train2017.json"
    result = CliRunner().invoke(
        app,
        [
            "calibrate",
            str(objectix_onnx),
            "--int8",
            "--data",
            str(data),
            "--ann",
            str(ann),
            "--num-images",
            "2",
            "--method",
            "minmax",
        ],
    )
    assert result.exit_code == 0, result.output
    int8cpu = objectix_onnx.with_name("objectix.int8cpu.onnx")
    assert int8cpu.is_file()
    ref = objectix_onnx.with_suffix(".pt")
    args = [
        "parity",
        str(int8cpu),
        "-r",
        str(ref),
        "--data",
        str(data),
        "--ann",
        str(ann),
        "--max-images",
        "2",
        "--batch",
        "8",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1, 2) and "agreement" in result.output and "rois" in result.output, result.output
