"""TensorRT: build → run → parity against the ONNX it came from (marked ``tensorrt``), plus the
sidecar and profile logic that runs everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from objectix_edge.enums import Precision
from objectix_edge.errors import ArtifactError
from objectix_edge.eval.matching import match_detections
from objectix_edge.eval.parity import DEFAULT_STRIDE
from objectix_edge.models import create_model
from objectix_edge.runtime.base import RunnerCapabilities
from objectix_edge.runtime.batch_profile import BatchProfile
from objectix_edge.runtime.trt_sidecar import GpuInfo, Sidecar, read_sidecar, sidecar_path, write_sidecar
from tests.conftest import TINY_CLASSIFIER


def _sidecar(version: str = "10.16.1.11", cc: str = "9.0") -> Sidecar:
    spec = create_model("resnet50-roi", **TINY_CLASSIFIER).spec
    return Sidecar(
        spec,
        Precision.INT8,
        version,
        GpuInfo("NVIDIA H100", cc),
        {"images": {"min": [1, 3, 64, 64], "opt": [4, 3, 64, 64], "max": [16, 3, 64, 64]}},
        "ab" * 32,
    )


def test_sidecar_round_trip_and_mismatch_refusal(tmp_path: Path) -> None:
    engine = tmp_path / "m.int8.engine"
    engine.write_bytes(b"plan")
    written = write_sidecar(engine, _sidecar())
    assert written == sidecar_path(engine) and json.loads(written.read_text())["gpu"]["compute_capability"] == "9.0"
    loaded = read_sidecar(engine)
    assert loaded == _sidecar()
    loaded.check_runtime(engine, "10.16.1.11", GpuInfo("NVIDIA H100 80GB HBM3", "9.0"))  # same arch: fine
    with pytest.raises(ArtifactError, match="TensorRT 10.16.1.11.*11.4.0.106.*rebuild it .*objx-edge build-engine"):
        loaded.check_runtime(engine, "11.4.0.106", GpuInfo("NVIDIA H100", "9.0"))
    with pytest.raises(ArtifactError, match="compute capability 9.0.*8.7.*objx-edge build-engine"):
        loaded.check_runtime(engine, "10.16.1.11", GpuInfo("Orin", "8.7"))
    sidecar_path(engine).unlink()
    with pytest.raises(ArtifactError, match="sidecar .* missing"):
        read_sidecar(engine)


# --- real TensorRT (skipped without TensorRT and a GPU) ------------------------------------------


@pytest.fixture(scope="module")
def engines(
    calib_onnx, calib_int8, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], tuple[Path, Path]]:
    """(model, precision) → (engine, the ONNX it was built from), for fp32/fp16/int8 of both models."""
    from objectix_edge.export.fp16 import convert_fp16, fp16_path
    from objectix_edge.runtime.trt_build import EngineConfig, build_engine

    out = tmp_path_factory.mktemp("engines")
    cache = out / "timing.cache"
    built = {}
    for name, fp32 in calib_onnx.items():
        sources = {
            "fp32": fp32,
            "fp16": convert_fp16(fp32, fp16_path(fp32, out)),
            "int8": calib_int8[name].files["int8"],
        }
        for precision, onnx_path in sources.items():
            engine = out / f"{name}.{precision}.engine"
            build_engine(
                onnx_path, engine, EngineConfig(profile=BatchProfile(1, 2, 4), workspace_gib=1.0, timing_cache=cache)
            )
            built[(name, precision)] = (engine, onnx_path)
    assert cache.stat().st_size > 0
    return built


def _feeds(runner, batch: int, seed: int = 0) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    return {i.name: rng.standard_normal((batch, *i.shape[1:])).astype(np.float32) for i in runner.inputs()}


@pytest.mark.tensorrt
@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_classifier_engine_matches_its_onnx(engines, precision: str) -> None:
    from objectix_edge.runtime.ort_runner import OrtRunner
    from objectix_edge.runtime.trt_runner import TrtRunner

    engine, onnx_path = engines[("classifier", precision)]
    with TrtRunner(engine) as trt_runner, OrtRunner(onnx_path) as ort_runner:
        assert trt_runner.precision.value == precision and trt_runner.sidecar.profile["images"]["max"][0] == 4
        # torch has CUDA wherever these tests run: torch I/O on the engine's own stream.
        caps = trt_runner.capabilities
        assert caps == RunnerCapabilities(device_tensors=True, stream=True, precision=trt_runner.precision)
        assert trt_runner.cuda_stream is not None
        for batch in (1, 3, 4):
            feeds = _feeds(ort_runner, batch, seed=batch)
            ref, out = ort_runner.infer(feeds)["logits"], trt_runner.infer(feeds, check=batch == 1)["logits"]
            tol = {"fp32": 1e-3, "fp16": 2e-2, "int8": 5e-2}[precision] * np.abs(ref).max()
            assert out.shape == ref.shape and np.abs(out - ref).max() <= tol
            assert (out.argmax(1) == ref.argmax(1)).mean() >= (1.0 if precision == "fp32" else 0.75)


@pytest.mark.tensorrt
@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_detector_engine_matches_its_onnx(engines, calib_cases, precision: str) -> None:
    import cv2

    from objectix_edge.modelio.preprocess import preprocess_detector_batch
    from objectix_edge.runtime.ort_runner import OrtRunner
    from objectix_edge.runtime.trt_runner import TrtRunner

    engine, onnx_path = engines[("detector", precision)]
    paths = sorted(calib_cases["detector"].val_images.iterdir())[:4]
    with TrtRunner(engine) as trt_runner, OrtRunner(onnx_path) as ort_runner:
        x, _ = preprocess_detector_batch([cv2.imread(str(p)) for p in paths], ort_runner.spec)
        ref, out = ort_runner.infer({"images": x})["detections"], trt_runner.infer({"images": x})["detections"]
        for r, o in zip(ref, out, strict=True):
            m = match_detections(
                r,
                o,
                iou_threshold=0.5,
                score_floor=0.05,
                capacity=ort_runner.spec.max_det,
                cut_tolerance=2e-2,
                peak_window=float(
                    ort_runner.spec.model_kwargs.get("out_stride", DEFAULT_STRIDE)
                ),  # neighbour-peak ties
            )
            assert m.unmatched <= (0 if precision == "fp32" else max(1, m.reference // 10)), m


@pytest.mark.tensorrt
def test_engine_with_foreign_sidecar_is_refused(engines, tmp_path: Path) -> None:
    from objectix_edge.runtime.trt_runner import TrtRunner

    engine, _ = engines[("classifier", "fp32")]
    copy = tmp_path / engine.name
    copy.write_bytes(engine.read_bytes())
    data = json.loads(sidecar_path(engine).read_text())
    data["tensorrt_version"] = "9.0.0"
    sidecar_path(copy).write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="rebuild it .*objx-edge build-engine"):
        TrtRunner(copy)


@pytest.mark.tensorrt
def test_build_engine_cli_from_fp32_onnx_with_int8(calib_onnx, calib_split, tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from objectix_edge.cli.app import app

    model = tmp_path / "classifier.onnx"
    shutil.copy(calib_onnx["classifier"], model)
    result = CliRunner().invoke(
        app,
        [
            "build-engine",
            str(model),
            "--int8",
            "--calib-data",
            str(calib_split.images),
            "--calib-ann",
            str(calib_split.ann),
            "--num-images",
            "16",
            "--batch",
            "1,2,4",
            "--timing-cache",
            str(tmp_path / "t.cache"),
        ],
    )
    assert result.exit_code == 0, result.output
    engine = tmp_path / "classifier.int8.engine"
    assert engine.stat().st_size > 0 and (tmp_path / "t.cache").stat().st_size > 0
    sidecar = read_sidecar(engine)
    assert sidecar.precision == Precision.INT8 and sidecar.profile["images"]["opt"][0] == 2


def _tensorrt_importable() -> bool:
    try:
        import tensorrt  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@pytest.mark.skipif(_tensorrt_importable(), reason="checks the error shown when TensorRT is absent")
def test_without_tensorrt_build_and_runner_name_the_extra_and_write_nothing(calib_onnx, tmp_path: Path) -> None:
    from objectix_edge.errors import MissingDependencyError
    from objectix_edge.runtime.trt_build import EngineConfig, build_engine
    from objectix_edge.runtime.trt_runner import TrtRunner

    engine = tmp_path / "m.engine"
    with pytest.raises(MissingDependencyError, match=r'TensorRT .*pip install "objectix-edge\[tensorrt\]"'):
        build_engine(calib_onnx["classifier"], engine, EngineConfig(timing_cache=tmp_path / "t.cache"))
    assert list(tmp_path.iterdir()) == []
    engine.write_bytes(b"not a plan")
    with pytest.raises(MissingDependencyError, match="tensorrt"):
        TrtRunner(engine)
