"""TensorRT engines for the deploy step: one per reduced-precision ONNX, sharing one timing cache."""

from __future__ import annotations

from pathlib import Path

from objectix_edge.deploy.context import DeployContext
from objectix_edge.enums import ArtifactKind
from objectix_edge.runtime.batch_profile import BatchProfile
from objectix_edge.runtime.trt_build import EngineConfig, build_engine, engine_path

# ONNX artifact kind → engine artifact kind. FP16 and INT8 are what an edge GPU runs.
ENGINE_SOURCES = {
    ArtifactKind.ONNX_FP16: ArtifactKind.ENGINE_FP16,
    ArtifactKind.ONNX_INT8: ArtifactKind.ENGINE_INT8,
}
TIMING_CACHE = "trt.timing-cache"


def build_engines(ctx: DeployContext) -> dict[ArtifactKind, Path]:
    """Build ``model.fp16.engine`` and ``model.int8.engine`` (+ sidecars) with a profile covering the bench batches."""

    largest = max(ctx.config.batches)
    config = EngineConfig(
        profile=BatchProfile(min=1, opt=largest, max=max(16, largest)), timing_cache=ctx.out / TIMING_CACHE
    )
    built: dict[ArtifactKind, Path] = {}
    for source, kind in ENGINE_SOURCES.items():
        if source not in ctx.artifacts:
            continue
        ctx.note(f"building {engine_path(ctx.artifacts[source]).name}")
        result = build_engine(ctx.artifacts[source], engine_path(ctx.artifacts[source]), config)
        for warning in result.warnings:
            ctx.note(f"warning: {warning}")
        built[kind] = result.engine
        built[kind.sidecar] = result.sidecar
    return built
