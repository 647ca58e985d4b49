"""``objx-edge build-engine``: ONNX (FP32 / FP16 / INT8 Q/DQ) → TensorRT engine + sidecar JSON."""

from __future__ import annotations

from pathlib import Path

import typer

from objectix_edge.cli.console import console
from objectix_edge.errors import InputError


def build_engine(
    model: Path = typer.Argument(..., help="ONNX file: FP32 from export, or a .fp16/.int8 file from calibrate."),
    fp16: bool = typer.Option(False, "--fp16", help="Given an FP32 ONNX, convert it to FP16 first (calibrate --fp16)."),
    int8: bool = typer.Option(False, "--int8", help="Given an FP32 ONNX, calibrate INT8 first (needs --calib-data)."),
    calib_data: Path | None = typer.Option(None, "--calib-data", help="COCO image folder for --int8 calibration."),
    calib_ann: Path | None = typer.Option(
        None, "--calib-ann", help="COCO instances JSON (needed for the ROI classifier)."
    ),
    num_images: int = typer.Option(512, "--num-images", help="Calibration images for --int8."),
    batch: str = typer.Option("1,4,16", "--batch", help="Optimization profile batch sizes MIN,OPT,MAX."),
    workspace: float = typer.Option(2.0, "--workspace", help="Builder workspace limit in GiB."),
    timing_cache: Path | None = typer.Option(
        None, "--timing-cache", help="Timing cache file: loaded if present, saved after the build."
    ),
    tf32: bool = typer.Option(
        False, "--tf32", help="Let FP32 layers use TF32 (faster on Ampere+, no longer FP32-exact vs the ONNX)."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Engine path (default: MODEL with .engine beside it)."),
) -> None:
    """Build a TensorRT engine (strongly typed: precision comes from the ONNX) and its sidecar JSON.

    Example: objx-edge build-engine model.onnx --int8 --calib-data coco/images --batch 1,4,16 --timing-cache trt.cache
    """
    from objectix_edge.runtime.profile import BatchProfile
    from objectix_edge.runtime.trt_build import EngineConfig, check_build_environment, engine_path
    from objectix_edge.runtime.trt_build import build_engine as build

    if fp16 and int8:
        raise InputError("choose one of --fp16 and --int8")
    profile = BatchProfile.parse(batch)
    check_build_environment()  # TensorRT and a GPU, before anything is written
    onnx_path = _precision_step(model, fp16, int8, calib_data, calib_ann, num_images)
    built = build(
        onnx_path,
        out or engine_path(onnx_path),
        EngineConfig(profile=profile, workspace_gib=workspace, timing_cache=timing_cache, tf32=tf32),
    )
    for warning in built.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False, highlight=False)
    info = built.info
    console.print(
        f"engine: {built.engine} ({built.engine.stat().st_size / 1e6:.1f} MB, {info.precision.value}, "
        f"TensorRT {info.tensorrt_version}, {info.gpu.name} sm_{info.gpu.compute_capability.replace('.', '')})"
    )
    console.print(f"sidecar: {built.sidecar}; profile: {info.profile}")


def _precision_step(
    model: Path, fp16: bool, int8: bool, calib_data: Path | None, calib_ann: Path | None, num_images: int
) -> Path:
    """Run calibrate --fp16 / --int8 first when given an FP32 ONNX; returns the ONNX to build."""
    from objectix_edge.enums import Precision
    from objectix_edge.export.metadata import detect_precision, load_onnx

    if not (fp16 or int8):
        return model
    current = detect_precision(load_onnx(model))
    wanted = Precision.FP16 if fp16 else Precision.INT8
    if current == wanted:
        return model
    if current != Precision.FP32:
        raise InputError(f"{model}: is a {current.value} ONNX; pass the FP32 export to convert it to {wanted.value}")
    if fp16:
        from objectix_edge.export.fp16 import convert_fp16, fp16_path

        return convert_fp16(model, fp16_path(model))
    if calib_data is None:
        raise InputError(
            "--int8 on an FP32 ONNX calibrates first: pass --calib-data COCO_IMAGES (or a .int8.onnx from calibrate)"
        )
    from objectix_edge.calib.int8 import Int8Config
    from objectix_edge.cli.calibrate_cmd import run_with_progress

    result = run_with_progress(model, Int8Config(data=calib_data, ann=calib_ann, num_images=num_images))
    return result.files["int8"]
