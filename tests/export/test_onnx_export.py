"""ONNX export: I/O contract, ops, metadata, determinism, options and refusals."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from objectix_edge.enums import Precision
from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.export.metadata import PRECISION_METADATA_KEY, PRODUCER_NAME, detect_precision, read_onnx_spec
from objectix_edge.export.onnx import ExportConfig, export_onnx
from objectix_edge.models.checkpoint import load_checkpoint
from objectix_edge.spec import SPEC_METADATA_KEY

# Ops both ONNX Runtime and TensorRT >= 10 run natively (no plugins).
TRT_SAFE_OPS = {
    "Add",
    "Cast",
    "Clip",
    "Concat",
    "Conv",
    "Div",
    "Equal",
    "Exp",
    "Expand",
    "Floor",
    "Gather",
    "GatherElements",
    "MaxPool",
    "Mul",
    "Reshape",
    "Resize",
    "Shape",
    "Sigmoid",
    "Sub",
    "TopK",
    "Unsqueeze",
    "Gemm",
    "ReduceMean",
    "Relu",
    "Flatten",
    "GlobalAveragePool",
    "Slice",
    "Squeeze",
    "Transpose",
    "MatMul",
}


def dims(value: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def test_detector_contract(tiny_det_ckpt: Path, tiny_det_onnx: Path) -> None:
    model = onnx.load(str(tiny_det_onnx))
    spec = load_checkpoint(tiny_det_ckpt).spec
    assert [(i.name, dims(i)) for i in model.graph.input] == [("images", ["batch", 3, 128, 128])]
    assert [(o.name, dims(o)) for o in model.graph.output] == [("detections", ["batch", spec.max_det, 6])]
    ops = {n.op_type for n in model.graph.node}
    assert {"TopK", "MaxPool", "Sigmoid", "GatherElements"} <= ops  # decode is in the graph
    assert ops <= TRT_SAFE_OPS, ops - TRT_SAFE_OPS
    assert all(n.domain in ("", "ai.onnx") for n in model.graph.node)  # no custom ops
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta[PRECISION_METADATA_KEY] == "fp32" and SPEC_METADATA_KEY in meta
    assert model.producer_name == PRODUCER_NAME
    assert read_onnx_spec(tiny_det_onnx) == spec
    assert len(model.graph.value_info) > 0  # shape inference ran and was kept
    onnx.checker.check_model(model, full_check=True)


def test_classifier_contract(tiny_cls_ckpt: Path, tiny_cls_onnx: Path) -> None:
    model = onnx.load(str(tiny_cls_onnx))
    assert [(i.name, dims(i)) for i in model.graph.input] == [
        ("images", ["batch", 3, 64, 64]),
        ("roi_mask", ["batch", 1, 64, 64]),
    ]
    assert [(o.name, dims(o)) for o in model.graph.output] == [("logits", ["batch", 80])]
    assert read_onnx_spec(tiny_cls_onnx) == load_checkpoint(tiny_cls_ckpt).spec
    assert detect_precision(model) == Precision.FP32


def test_reexport_is_byte_identical(tiny_cls_ckpt: Path, tiny_cls_onnx: Path, tmp_path: Path) -> None:
    again = export_onnx(tiny_cls_ckpt, tmp_path / "again.onnx")
    assert again.read_bytes() == tiny_cls_onnx.read_bytes()


def test_static_batch_other_opset_unsimplified_and_imgsz(tiny_cls_ckpt: Path, tmp_path: Path) -> None:
    out = export_onnx(
        tiny_cls_ckpt, tmp_path / "static.onnx", ExportConfig(imgsz=96, opset=20, dynamic_batch=False, simplify=False)
    )
    model = onnx.load(str(out))
    assert [dims(i) for i in model.graph.input] == [[1, 3, 96, 96], [1, 1, 96, 96]]
    assert {o.domain: o.version for o in model.opset_import}[""] == 20
    spec = read_onnx_spec(out)
    assert spec.input_size == (96, 96) and spec.model_kwargs["imgsz"] == 96


@pytest.mark.parametrize("opset", [12, 17, 30])
def test_unsupported_opset_is_refused_before_writing(tiny_cls_ckpt: Path, tmp_path: Path, opset: int) -> None:
    with pytest.raises(InputError, match="--opset between 18 and 23"):
        export_onnx(tiny_cls_ckpt, tmp_path / "x.onnx", ExportConfig(opset=opset))
    assert list(tmp_path.iterdir()) == []


def test_onnx_without_our_metadata(tiny_cls_onnx: Path, tmp_path: Path) -> None:
    model = onnx.load(str(tiny_cls_onnx))
    del model.metadata_props[:]
    foreign = tmp_path / "foreign.onnx"
    onnx.save(model, str(foreign))
    with pytest.raises(
        ArtifactError, match=r"foreign\.onnx: ONNX file has no objectix-edge model spec.*objx-edge export"
    ):
        read_onnx_spec(foreign)
    assert detect_precision(model) == Precision.FP32


def test_not_an_onnx_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ArtifactError, match="bad.onnx: is not a readable ONNX file"):
        read_onnx_spec(bad)


def test_fp16_graph_detected_without_tag(tiny_cls_onnx: Path) -> None:
    from onnxconverter_common import float16

    model = float16.convert_float_to_float16(onnx.load(str(tiny_cls_onnx)), keep_io_types=True)
    kept = [p for p in model.metadata_props if p.key != PRECISION_METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    assert detect_precision(model) == Precision.FP16
