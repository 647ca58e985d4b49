"""deploy/precision.py: the FP16 / INT8 step build-engine and deploy share, chosen and refused without TensorRT."""

from __future__ import annotations

import shutil
from pathlib import Path

import onnx
import pytest

from objectix_edge.deploy.precision import (
    NEEDS_CALIB_DATA,
    build_engine_from,
    conversion_needed,
    reduced_onnx,
    wanted_precision,
)
from objectix_edge.enums import Precision
from objectix_edge.errors import InputError, MissingDependencyError
from objectix_edge.export.metadata import PRECISION_METADATA_KEY, detect_precision, load_onnx
from objectix_edge.runtime.trt_build import EngineConfig
from tests.conftest import _has_tensorrt


def _tagged(src: Path, dst: Path, precision: Precision) -> Path:
    """A copy of ``src`` whose metadata says it is ``precision`` (how calibrate marks its files)."""
    model = onnx.load(str(src))
    entry = next((p for p in model.metadata_props if p.key == PRECISION_METADATA_KEY), None)
    if entry is None:
        entry = model.metadata_props.add()
        entry.key = PRECISION_METADATA_KEY
    entry.value = precision.value
    onnx.save(model, str(dst))
    return dst


@pytest.mark.parametrize(
    ("fp16", "int8", "wanted"),
    [(False, False, Precision.FP32), (True, False, Precision.FP16), (False, True, Precision.INT8)],
)
def test_flags_choose_the_precision(fp16: bool, int8: bool, wanted: Precision) -> None:
    assert wanted_precision(fp16, int8) == wanted


def test_both_flags_are_refused() -> None:
    with pytest.raises(InputError, match="choose one of --fp16 and --int8"):
        wanted_precision(True, True)


def test_fp32_wanted_or_already_there_converts_nothing(tiny_det_onnx: Path, tmp_path: Path) -> None:
    assert not conversion_needed(tiny_det_onnx, Precision.FP32)
    assert reduced_onnx(tiny_det_onnx, Precision.FP32).onnx == tiny_det_onnx
    int8 = _tagged(tiny_det_onnx, tmp_path / "det.int8.onnx", Precision.INT8)
    done = reduced_onnx(int8, Precision.INT8)  # no calibration data needed: it already is INT8
    assert done.onnx == int8 and done.int8 is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["det.int8.onnx"]


def test_a_reduced_onnx_is_not_converted_again(tiny_det_onnx: Path, tmp_path: Path) -> None:
    fp16 = _tagged(tiny_det_onnx, tmp_path / "det.fp16.onnx", Precision.FP16)
    with pytest.raises(InputError, match=r"is a fp16 ONNX; pass the FP32 export to convert it to int8"):
        reduced_onnx(fp16, Precision.INT8)


def test_fp16_is_converted_beside_the_model_or_in_out_dir(tiny_det_onnx: Path, tmp_path: Path) -> None:
    model = Path(shutil.copy(tiny_det_onnx, tmp_path / "det.onnx"))
    done = reduced_onnx(model, Precision.FP16)
    assert done.onnx == tmp_path / "det.fp16.onnx" and done.int8 is None
    assert detect_precision(load_onnx(done.onnx)) == Precision.FP16
    elsewhere = reduced_onnx(model, Precision.FP16, out_dir=tmp_path / "out").onnx
    assert elsewhere == tmp_path / "out" / "det.fp16.onnx" and elsewhere.is_file()


def test_int8_of_an_fp32_onnx_needs_calibration_data(tiny_det_onnx: Path, tmp_path: Path) -> None:
    model = Path(shutil.copy(tiny_det_onnx, tmp_path / "det.onnx"))
    with pytest.raises(InputError, match="--int8 on an FP32 ONNX calibrates first") as exc:
        reduced_onnx(model, Precision.INT8)
    assert str(exc.value) == NEEDS_CALIB_DATA
    assert sorted(p.name for p in tmp_path.iterdir()) == ["det.onnx"]


@pytest.mark.skipif(_has_tensorrt(), reason="checks the refusal when TensorRT or the GPU is absent")
@pytest.mark.parametrize("wanted", list(Precision))
def test_engine_build_checks_tensorrt_before_writing_anything(
    tiny_det_onnx: Path, tmp_path: Path, wanted: Precision
) -> None:
    model = Path(shutil.copy(tiny_det_onnx, tmp_path / "det.onnx"))
    with pytest.raises(MissingDependencyError, match="TensorRT"):
        build_engine_from(model, wanted, EngineConfig(), out=tmp_path / "det.engine")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["det.onnx"]
