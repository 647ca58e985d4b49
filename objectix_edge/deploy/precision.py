"""The precision chain as one library call: an FP32 ONNX → its FP16 or INT8 (Q/DQ) ONNX → a TensorRT engine.

``objx-edge build-engine`` and the deploy steps (deploy/steps.py) both call :func:`reduced_onnx`, so the FP16
conversion and the INT8 calibration are chosen, refused and named the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from objectix_edge.calib.int8 import Int8Config, Int8Hooks, Int8Result, run_int8
from objectix_edge.enums import Int8Form, Precision
from objectix_edge.errors import InputError
from objectix_edge.export.fp16 import convert_fp16, fp16_path
from objectix_edge.export.metadata import detect_precision, load_onnx, require_fp32
from objectix_edge.runtime.trt_build import (
    BuiltEngine,
    EngineConfig,
    build_engine,
    check_build_environment,
    engine_path,
)

NEEDS_CALIB_DATA = (
    "--int8 on an FP32 ONNX calibrates first: pass --calib-data COCO_IMAGES (or a .int8.onnx from calibrate)"
)


@dataclass(frozen=True)
class ReducedOnnx:
    """The ONNX to build (``onnx``), and the calibration's result when INT8 was calibrated here."""

    onnx: Path
    int8: Int8Result | None = None


def conversion_needed(model: Path, wanted: Precision) -> bool:
    """True when ``model`` must be converted to ``wanted``; False when it already is ``wanted`` (or FP32 is wanted).

    Refuses (InputError) a reduced-precision ONNX asked for another reduced precision: only the FP32 export
    converts."""

    if wanted == Precision.FP32:
        return False
    proto = load_onnx(model)
    if detect_precision(proto) == wanted:
        return False
    require_fp32(proto, model, wanted)
    return True


def reduced_onnx(
    model: Path,
    wanted: Precision,
    int8: Int8Config | None = None,
    hooks: Int8Hooks | None = None,
    out_dir: Path | None = None,
) -> ReducedOnnx:
    """``model`` at precision ``wanted``: itself when it already is, else its FP16 conversion or INT8 calibration.

    FP16 is written as ``model.fp16.onnx`` in ``out_dir`` (default: beside ``model``); INT8 calibrates with
    ``int8`` (its ``out_dir`` names the folder) and returns the TensorRT Q/DQ form, with the whole result."""
    if not conversion_needed(model, wanted):
        return ReducedOnnx(model)
    if wanted == Precision.FP16:
        return ReducedOnnx(convert_fp16(model, fp16_path(model, out_dir)))
    if int8 is None:
        raise InputError(NEEDS_CALIB_DATA)

    result = run_int8(model, int8, hooks or Int8Hooks())
    return ReducedOnnx(result.files[Int8Form.TENSORRT.value], result)


def wanted_precision(fp16: bool, int8: bool) -> Precision:
    """build-engine's --fp16 / --int8 flags → the precision to build (FP32: the ONNX as given)."""
    if fp16 and int8:
        raise InputError("choose one of --fp16 and --int8")
    return Precision.FP16 if fp16 else Precision.INT8 if int8 else Precision.FP32


def build_engine_from(
    model: Path,
    wanted: Precision,
    config: EngineConfig,
    out: Path | None = None,
    int8: Int8Config | None = None,
    calibration: Callable[[], AbstractContextManager[Int8Hooks | None]] | None = None,
) -> BuiltEngine:
    """TensorRT and a GPU checked first (nothing written without them), then ``model`` → ``wanted`` → engine.

    ``out``: the engine path (default: the built ONNX with ``.engine`` beside it); ``calibration``: a context
    giving the progress hooks, entered around the conversion only (e.g. a progress bar, gone before the build)."""

    check_build_environment()
    with (calibration or nullcontext)() as hooks:
        onnx_path = reduced_onnx(model, wanted, int8, hooks).onnx
    return build_engine(onnx_path, out or engine_path(onnx_path), config)
