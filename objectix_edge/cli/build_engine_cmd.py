"""``objx-edge build-engine``: ONNX (FP32 / FP16 / INT8 Q/DQ) → TensorRT engine + sidecar JSON."""

from __future__ import annotations

from pathlib import Path

import typer

from objectix_edge.cli.console import int8_progress, say
from objectix_edge.defaults import CALIB_IMAGES, ENGINE_TF32, WORKSPACE_GIB
from objectix_edge.runtime.batch_profile import BatchProfile

_PROFILE = "{0.min},{0.opt},{0.max}".format(BatchProfile())  # --batch's default: BatchProfile's own


def build_engine(
    model: Path = typer.Argument(..., help="ONNX file: FP32 from export, or a .fp16/.int8 file from calibrate."),
    fp16: bool = typer.Option(False, "--fp16", help="Given an FP32 ONNX, convert it to FP16 first (calibrate --fp16)."),
    int8: bool = typer.Option(False, "--int8", help="Given an FP32 ONNX, calibrate INT8 first (needs --calib-data)."),
    calib_data: Path | None = typer.Option(None, "--calib-data", help="COCO image folder for --int8 calibration."),
    calib_ann: Path | None = typer.Option(
        None, "--calib-ann", help="COCO instances JSON (needed for the ROI classifier)."
    ),
    num_images: int = typer.Option(CALIB_IMAGES, "--num-images", help="Calibration images for --int8."),
    batch: str = typer.Option(_PROFILE, "--batch", help="Optimization profile batch sizes MIN,OPT,MAX."),
    workspace: float = typer.Option(WORKSPACE_GIB, "--workspace", help="Builder workspace limit in GiB."),
    timing_cache: Path | None = typer.Option(
        None, "--timing-cache", help="Timing cache file: loaded if present, saved after the build."
    ),
    tf32: bool = typer.Option(
        ENGINE_TF32, "--tf32", help="Let FP32 layers use TF32 (faster on Ampere+, no longer FP32-exact vs the ONNX)."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Engine path (default: MODEL with .engine beside it)."),
) -> None:
    """Build a TensorRT engine (strongly typed: precision comes from the ONNX) and its sidecar JSON.

    Example: objx-edge build-engine model.onnx --int8 --calib-data coco/images --batch 1,4,16 --timing-cache trt.cache
    """
    from objectix_edge.calib.int8 import Int8Config
    from objectix_edge.deploy.precision import build_engine_from, wanted_precision
    from objectix_edge.runtime.trt_build import EngineConfig

    wanted = wanted_precision(fp16, int8)
    config = EngineConfig(
        profile=BatchProfile.parse(batch), workspace_gib=workspace, timing_cache=timing_cache, tf32=tf32
    )
    calib = Int8Config(data=calib_data, ann=calib_ann, num_images=num_images) if calib_data is not None else None
    built = build_engine_from(model, wanted, config, out, calib, calibration=int8_progress)
    for warning in built.warnings:
        say(f"warning: {warning}", style="yellow")
    info = built.info
    say(
        f"engine: {built.engine} ({built.engine.stat().st_size / 1e6:.1f} MB, {info.precision.value}, "
        f"TensorRT {info.tensorrt_version}, {info.gpu.name} sm_{info.gpu.compute_capability.replace('.', '')})"
    )
    say(f"sidecar: {built.sidecar}; profile: {info.profile}")
