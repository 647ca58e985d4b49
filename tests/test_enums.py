"""The str-valued enums keep the exact strings files and reports always held."""

from __future__ import annotations

import json

from objectix_edge.enums import ArtifactKind, Int8Form, SecondStageMode


def test_artifact_kinds_are_the_report_names() -> None:
    assert [k.value for k in ArtifactKind] == [
        "split-calib",
        "split-holdout",
        "onnx-fp32",
        "onnx-fp16",
        "onnx-int8",
        "onnx-int8cpu",
        "calib-cache",
        "engine-fp16",
        "engine-fp16-sidecar",
        "engine-int8",
        "engine-int8-sidecar",
        "bench-json",
        "bench-csv",
        "bench-plot",
    ]
    assert ArtifactKind.onnx(Int8Form.CPU) == ArtifactKind.ONNX_INT8CPU
    assert ArtifactKind.ENGINE_INT8.sidecar == ArtifactKind.ENGINE_INT8_SIDECAR
    assert json.dumps({"name": ArtifactKind.ONNX_FP16}) == '{"name": "onnx-fp16"}'


def test_second_stage_modes_keep_their_words() -> None:
    assert [m.value for m in SecondStageMode] == ["every box", "tracked", "async"]
    assert SecondStageMode.ASYNC == "async" and json.dumps(SecondStageMode.TRACKED) == '"tracked"'
