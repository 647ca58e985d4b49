"""INT8 Q/DQ files: structure of both forms, the decode kept FP32, cache round trip, stale cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from objectix_edge.calib.int8 import Int8Config, run_int8
from objectix_edge.calib.quantize import Int8Form, QuantizeConfig, layer_nodes, quantizable_nodes, quantize_from_cache
from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.export.calib_cache import load_cache
from objectix_edge.export.graph import tail_nodes


def _producers(model: onnx.ModelProto) -> dict[str, onnx.NodeProto]:
    return {out: node for node in model.graph.node for out in node.output}


def _dq_input(model: onnx.ModelProto, node: onnx.NodeProto, index: int) -> onnx.NodeProto | None:
    producer = _producers(model).get(node.input[index])
    return producer if producer is not None and producer.op_type == "DequantizeLinear" else None


@pytest.mark.parametrize("name", ["detector", "classifier"])
def test_qdq_pairs_around_every_conv(calib_onnx, calib_int8, name: str) -> None:
    fp32 = onnx.load(str(calib_onnx[name]))
    quantized, tail = set(quantizable_nodes(fp32)), set(tail_nodes(fp32))
    result = calib_int8[name]
    for form, act_type in ((Int8Form.TENSORRT, onnx.TensorProto.INT8), (Int8Form.CPU, onnx.TensorProto.UINT8)):
        model = onnx.load(str(result.files[form.value]))
        inits = {t.name: t for t in model.graph.initializer}
        producers = _producers(model)
        convs = [n for n in model.graph.node if n.op_type == "Conv"]
        assert len([c for c in convs if c.name in quantized]) >= len(convs) - 3
        for conv in convs:
            act, weight = _dq_input(model, conv, 0), _dq_input(model, conv, 1)
            if conv.name not in quantized:  # the head convs feeding the decode stay FP32
                assert weight is None, f"{form.value}: head conv {conv.name} was quantized"
                continue
            assert act is not None and weight is not None, f"{form.value}: {conv.name} lacks Q/DQ"
            assert producers[act.input[0]].op_type == "QuantizeLinear", f"{conv.name}: activation DQ without Q"
            zero_point = inits[act.input[2]]
            assert zero_point.data_type == act_type
            if form == Int8Form.TENSORRT:  # symmetric: zero point 0 everywhere
                assert not numpy_helper.to_array(zero_point).any()
            w_scale = numpy_helper.to_array(inits[weight.input[1]])
            out_channels = numpy_helper.to_array(inits[weight.input[0]]).shape[0]
            assert w_scale.shape == (out_channels,), "weights must be per-channel"
            assert inits[weight.input[0]].data_type == onnx.TensorProto.INT8
        # The decode / classifier tail computes in FP32 from FP32 inputs: no DequantizeLinear feeds it.
        for node in model.graph.node:
            if node.name in tail and node.op_type != "Shape":  # Shape reads dimensions only
                fed = [producers[i].op_type for i in node.input if i in producers]
                assert "DequantizeLinear" not in fed, f"{form.value}: {node.name} ({node.op_type}) reads a DQ output"


def test_excluded_conv_stays_fp32_and_others_keep_qdq(calib_onnx, calib_int8, tmp_path: Path) -> None:
    path = calib_onnx["classifier"]
    cache = calib_int8["classifier"].cache
    model = onnx.load(str(path))
    convs = [n.name for n in model.graph.node if n.op_type == "Conv" and n.name in layer_nodes(model)]
    target = convs[2]
    out = quantize_from_cache(
        path, cache, tmp_path / "x.int8.onnx", Int8Form.TENSORRT, QuantizeConfig(exclude=(target,))
    )
    q = onnx.load(str(out))
    conv = next(n for n in q.graph.node if n.name == target)
    assert (
        _dq_input(q, conv, 1) is None
        and numpy_helper.to_array({t.name: t for t in q.graph.initializer}[conv.input[1]]).dtype == np.float32
    )
    others = [n for n in q.graph.node if n.name in convs and n.name != target]
    assert all(_dq_input(q, n, 1) is not None for n in others)
    with pytest.raises(InputError, match="no-such-node"):
        quantize_from_cache(path, cache, tmp_path / "y.onnx", Int8Form.CPU, QuantizeConfig(exclude=("no-such-node",)))


def test_cache_records_method_images_and_model_hash(calib_int8, calib_split) -> None:
    result = calib_int8["classifier"]
    cache = load_cache(result.cache_path)
    assert cache.method.value == "entropy" and len(cache.image_ids) == 64
    assert not set(cache.image_ids) & set(calib_split.val_ids)
    assert len(cache.model_sha256) == 64 and cache.ranges
    assert all(lo <= hi for lo, hi in cache.ranges.values())


def test_cache_round_trip_gives_identical_files(calib_onnx, calib_int8, tmp_path: Path) -> None:
    result = calib_int8["detector"]
    model = tmp_path / "detector.onnx"
    shutil.copy(calib_onnx["detector"], model)
    again = run_int8(model, Int8Config(from_cache=result.cache_path))
    for form in Int8Form:
        assert again.files[form.value].read_bytes() == result.files[form.value].read_bytes()
    assert not (tmp_path / "detector.calib.json").exists()  # --from-cache reads the cache, writes no new one


def test_stale_cache_is_refused(calib_onnx, calib_int8, tmp_path: Path) -> None:
    other = tmp_path / "classifier.onnx"
    shutil.copy(calib_onnx["classifier"], other)
    with pytest.raises(ArtifactError, match="stale calibration cache.*re-calibrate"):
        run_int8(other, Int8Config(from_cache=calib_int8["detector"].cache_path))
    assert not list(tmp_path.glob("*.int8*.onnx"))
