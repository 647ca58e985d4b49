"""Batch profiles over an ONNX file's inputs: shared by engine builds and ONNX Runtime's TensorRT provider."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.export.onnx import ExportConfig, export_onnx
from objectix_edge.runtime.batch_profile import BatchProfile
from objectix_edge.runtime.profile import input_shapes


def test_dynamic_batch_spans_the_profile(tiny_cls_onnx: Path) -> None:
    assert input_shapes(tiny_cls_onnx, BatchProfile(1, 2, 6)) == {
        "images": {"min": [1, 3, 64, 64], "opt": [2, 3, 64, 64], "max": [6, 3, 64, 64]},
        "roi_mask": {"min": [1, 1, 64, 64], "opt": [2, 1, 64, 64], "max": [6, 1, 64, 64]},
    }


def test_fixed_batch_stays_fixed(tiny_det_ckpt: Path, tmp_path: Path) -> None:
    static = export_onnx(tiny_det_ckpt, tmp_path / "static.onnx", ExportConfig(dynamic_batch=False))
    shapes = input_shapes(static, BatchProfile(1, 4, 16))
    assert shapes == {"images": dict.fromkeys(("min", "opt", "max"), [1, 3, 128, 128])}


def test_other_dynamic_dimensions_are_refused(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "height", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, "height", 8])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    path = tmp_path / "free_height.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ArtifactError, match="input 'x' has dynamic dimensions besides the batch"):
        input_shapes(path, BatchProfile())


def test_batch_profile_parsing() -> None:
    assert BatchProfile.parse("1,4,16") == BatchProfile(1, 4, 16)
    assert BatchProfile.parse("8") == BatchProfile(8, 8, 8)
    for bad in ("4,2,8", "0,1,2", "a,b,c", "1,2"):
        with pytest.raises(InputError, match="MIN,OPT,MAX"):
            BatchProfile.parse(bad)
