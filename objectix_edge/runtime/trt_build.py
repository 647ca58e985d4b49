"""ONNX → TensorRT engine: strongly typed network, dynamic-batch profile, timing cache, sidecar.

Precision lives in the ONNX (FP16 weights/casts, INT8 Q/DQ), so the network is STRONGLY_TYPED and no
precision builder flags are set: the same code builds on TensorRT 10.x and 11.x (11 removed
BuilderFlag.FP16/INT8 and makes strong typing the only mode). TF32, on by default in TensorRT, is cleared
unless asked for, so FP32 tensors are computed in FP32 as ONNX Runtime computes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from objectix_edge.defaults import ENGINE_TF32, WORKSPACE_GIB
from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.export.calib_cache import sha256_file
from objectix_edge.export.metadata import detect_precision, load_onnx, read_onnx_spec
from objectix_edge.fileio import atomic_path, ensure_writable_dir, write_bytes_atomic
from objectix_edge.runtime.batch_profile import BatchProfile
from objectix_edge.runtime.profile import input_shapes
from objectix_edge.runtime.trt_sidecar import GpuInfo, Sidecar, current_gpu, import_tensorrt, write_sidecar

if TYPE_CHECKING:
    import tensorrt as trt

GIB = 1 << 30


@dataclass(frozen=True)
class EngineConfig:
    profile: BatchProfile = BatchProfile()
    workspace_gib: float = WORKSPACE_GIB
    timing_cache: Path | None = None
    optimization_level: int = 3
    tf32: bool = ENGINE_TF32  # TensorRT enables TF32 by default; off, an FP32 engine matches its ONNX to FP32 tolerance


@dataclass(frozen=True)
class BuiltEngine:
    engine: Path
    sidecar: Path
    info: Sidecar
    warnings: tuple[str, ...] = ()


def check_build_environment() -> GpuInfo:
    """The GPU to build for, or MissingDependencyError if TensorRT or the GPU is missing (nothing written yet)."""
    import_tensorrt()
    return current_gpu()


def _parse(network: trt.INetworkDefinition, logger: trt.ILogger, onnx_path: Path) -> None:
    import tensorrt as trt

    parser: trt.OnnxParser = trt.OnnxParser(network, logger)
    if parser.parse_from_file(str(onnx_path)):
        return
    problems = []
    for i in range(parser.num_errors):
        error: trt.ParserError = parser.get_error(i)
        where = error.node_name() or (f"node #{error.node()}" if error.node() >= 0 else "graph")
        problems.append(f"{where} ({error.node_operator() or '?'}): {error.desc()}")
    raise ArtifactError(
        f"{onnx_path}: TensorRT cannot parse it: {'; '.join(problems) or 'unknown error'}; "
        "re-export with another --opset or report the node"
    )


def _profile(
    builder: trt.Builder, onnx_path: Path, batch: BatchProfile
) -> tuple[trt.IOptimizationProfile, dict[str, dict[str, list[int]]]]:
    profile: trt.IOptimizationProfile = builder.create_optimization_profile()
    shapes = input_shapes(onnx_path, batch)
    for name, dims in shapes.items():
        profile.set_shape(name, tuple(dims["min"]), tuple(dims["opt"]), tuple(dims["max"]))
    return profile, shapes


def _load_timing_cache(config: trt.IBuilderConfig, path: Path | None) -> str | None:
    """Attach the cache file (or an empty cache); returns a warning when the file could not be used."""
    data = path.read_bytes() if path is not None and path.is_file() else b""
    cache: trt.ITimingCache = config.create_timing_cache(data)
    if config.set_timing_cache(cache, ignore_mismatch=False):
        return None
    # A cache from another GPU model or TensorRT version is refused: build without it, then replace it.
    config.set_timing_cache(config.create_timing_cache(b""), ignore_mismatch=False)
    return f"{path}: timing cache made on another GPU or TensorRT version; built without it and replaced it"


def build_engine(onnx_path: Path, out_path: Path, config: EngineConfig = EngineConfig()) -> BuiltEngine:
    """Build and write ``out_path`` + its sidecar atomically; the timing cache is loaded and saved."""
    gpu = check_build_environment()
    import tensorrt as trt  # importable: checked just above, with a one-line error if not

    onnx_path, out_path = Path(onnx_path), Path(out_path)
    spec = read_onnx_spec(onnx_path)
    precision = detect_precision(load_onnx(onnx_path))
    if config.workspace_gib <= 0:
        raise InputError(f"--workspace must be positive (GiB), got {config.workspace_gib}")
    ensure_writable_dir(out_path)

    logger: trt.ILogger = trt.Logger(trt.Logger.WARNING)
    builder: trt.Builder = trt.Builder(logger)
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network: trt.INetworkDefinition = builder.create_network(flags)
    _parse(network, logger, onnx_path)

    build_config: trt.IBuilderConfig = builder.create_builder_config()
    build_config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(config.workspace_gib * GIB))
    build_config.builder_optimization_level = config.optimization_level
    if not config.tf32:
        build_config.clear_flag(trt.BuilderFlag.TF32)
    profile, shapes = _profile(builder, onnx_path, config.profile)
    build_config.add_optimization_profile(profile)
    cache_warning = _load_timing_cache(build_config, config.timing_cache)

    serialized: trt.IHostMemory | None = builder.build_serialized_network(network, build_config)
    if serialized is None:
        raise ArtifactError(
            f"{onnx_path}: TensorRT could not build an engine (see the TensorRT log above); try a larger --workspace"
        )
    sidecar = Sidecar(spec, precision, str(trt.__version__), gpu, shapes, sha256_file(onnx_path))
    write_bytes_atomic(out_path, bytes(serialized))
    sidecar_file = write_sidecar(out_path, sidecar)
    updated: trt.ITimingCache | None = build_config.get_timing_cache()  # now holds this build's timings
    if config.timing_cache is not None and updated is not None:
        with atomic_path(config.timing_cache) as tmp:
            tmp.write_bytes(bytes(updated.serialize()))
    return BuiltEngine(out_path, sidecar_file, sidecar, tuple(w for w in (cache_warning,) if w))


def engine_path(onnx_path: Path) -> Path:
    """``model.int8.onnx`` → ``model.int8.engine`` beside it."""
    onnx_path = Path(onnx_path)
    return onnx_path.with_suffix(".engine")
