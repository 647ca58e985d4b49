"""OrtRunner and open_runner on real ONNX Runtime sessions: spec round trip, I/O, precision, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from objectix_edge.enums import Backend, Precision
from objectix_edge.errors import ArtifactError, InputError, MissingDependencyError
from objectix_edge.export.metadata import PRECISION_METADATA_KEY
from objectix_edge.models.checkpoint import load_checkpoint
from objectix_edge.runtime.batch_profile import BatchProfile
from objectix_edge.runtime.open import open_runner
from objectix_edge.runtime.ort_runner import OrtRunner, _check_started, providers_for, tensorrt_provider_options
from objectix_edge.runtime.torch_runner import TorchRunner


@pytest.mark.parametrize("which", ["det", "cls"])
def test_spec_round_trip_export_open(which: str, request: pytest.FixtureRequest) -> None:
    ckpt = request.getfixturevalue(f"tiny_{which}_ckpt")
    onnx_path = request.getfixturevalue(f"tiny_{which}_onnx")
    original = load_checkpoint(ckpt).spec
    with open_runner(onnx_path, threads=1) as runner:
        assert isinstance(runner, OrtRunner) and runner.backend == Backend.ONNXRUNTIME
        assert runner.spec == original
        assert runner.spec.input_size == original.input_size
        assert (
            runner.spec.category_names == original.category_names and runner.spec.category_ids == original.category_ids
        )
        assert [i.name for i in runner.inputs()] == list(original.input_names)
        assert [o.name for o in runner.outputs()] == list(original.output_names)
        assert all(i.shape[0] == -1 and i.dtype == np.float32 for i in runner.inputs())
        assert runner.precision == Precision.FP32
        assert runner.providers == ["CPUExecutionProvider"]
    with open_runner(ckpt) as torch_runner:
        assert isinstance(torch_runner, TorchRunner) and torch_runner.spec == original
        assert [i.shape for i in torch_runner.inputs()] == [i.shape for i in OrtRunner(onnx_path).inputs()]


def test_detector_runs_batches_and_tensors(tiny_det_onnx: Path) -> None:
    runner = OrtRunner(tiny_det_onnx, threads=1)
    x = np.random.default_rng(0).standard_normal((3, 3, 128, 128)).astype(np.float32)
    out = runner.infer({"images": x})["detections"]
    assert out.shape == (3, runner.spec.max_det, 6) and isinstance(out, np.ndarray)
    assert np.all(out[:, :, 4] >= 0) and np.all(out[:, :, 5] < runner.spec.num_classes)
    as_tensor = runner.infer({"images": torch.from_numpy(x)})["detections"]
    assert isinstance(as_tensor, torch.Tensor) and np.array_equal(as_tensor.numpy(), out)


def test_bad_feeds_are_refused(tiny_cls_onnx: Path) -> None:
    runner = OrtRunner(tiny_cls_onnx)
    images = np.zeros((2, 3, 64, 64), np.float32)
    with pytest.raises(InputError, match="expects inputs"):
        runner.infer({"images": images})
    with pytest.raises(InputError, match="has dtype float64"):
        runner.infer({"images": images.astype(np.float64), "roi_mask": np.zeros((2, 1, 64, 64), np.float32)})


def test_precision_from_metadata(tiny_cls_onnx: Path, tmp_path: Path) -> None:
    model = onnx.load(str(tiny_cls_onnx))
    for prop in model.metadata_props:
        if prop.key == PRECISION_METADATA_KEY:
            prop.value = "fp16"  # as calibrate would tag an FP16 file
    tagged = tmp_path / "model.fp16.onnx"
    onnx.save(model, str(tagged))
    assert OrtRunner(tagged).precision == Precision.FP16
    with pytest.raises(InputError, match="holds a fp16 model, not fp32"):
        open_runner(tagged, precision=Precision.FP32)


def test_open_runner_refusals(tiny_cls_onnx: Path, tiny_cls_ckpt: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="artifact not found"):
        open_runner(tmp_path / "missing.onnx")
    odd = tmp_path / "model.tflite"
    odd.write_bytes(b"x")
    with pytest.raises(InputError, match="unknown artifact type '.tflite'"):
        open_runner(odd)
    with pytest.raises(InputError, match="runs on the onnxruntime backend, not torch"):
        open_runner(tiny_cls_onnx, backend=Backend.TORCH)
    with pytest.raises(InputError, match="cuda-graph applies to the torch backend"):
        open_runner(tiny_cls_onnx, cuda_graph=True)
    with pytest.raises(InputError, match="threads must be at least 1"):
        open_runner(tiny_cls_onnx, threads=0)
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="torch sees no CUDA GPU"):
            open_runner(tiny_cls_ckpt, device="cuda")
    with pytest.raises(InputError, match="fp16 on the torch backend needs a CUDA device"):
        TorchRunner.from_checkpoint(tiny_cls_ckpt, precision=Precision.FP16)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not a protobuf")
    with pytest.raises(ArtifactError, match="corrupt.onnx: ONNX Runtime cannot load it"):
        OrtRunner(corrupt)


def test_execution_providers_follow_the_install() -> None:
    assert providers_for("cpu", ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert providers_for("cuda:1", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        ("CUDAExecutionProvider", {"device_id": 1}),
        "CPUExecutionProvider",
    ]
    with pytest.raises(MissingDependencyError, match="TensorrtExecutionProvider"):
        providers_for("tensorrt", ["CPUExecutionProvider"])
    with pytest.raises(InputError, match="unknown device 'npu'"):
        providers_for("npu", ["CPUExecutionProvider"])


def test_tensorrt_provider_caches_its_engines_and_covers_the_batch(tiny_cls_onnx: Path, tmp_path: Path) -> None:
    installed = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    options = tensorrt_provider_options(tiny_cls_onnx, tmp_path, BatchProfile(1, 4, 8))
    (trt_name, trt_options), (cuda_name, cuda_options), cpu = providers_for("tensorrt:1", installed, options)
    assert (trt_name, cuda_name, cpu) == ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
    assert trt_options == {
        "device_id": 1,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(tmp_path),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(tmp_path),
        "trt_profile_min_shapes": "images:1x3x64x64,roi_mask:1x1x64x64",
        "trt_profile_opt_shapes": "images:4x3x64x64,roi_mask:4x1x64x64",
        "trt_profile_max_shapes": "images:8x3x64x64,roi_mask:8x1x64x64",
    }
    assert cuda_options == {"device_id": 1}


def test_a_gpu_provider_that_fell_back_to_the_cpu_is_refused(tmp_path: Path) -> None:
    # ONNX Runtime retries on the CPU when a GPU provider fails to start; the runner must not pass as a GPU one.
    asked = providers_for("cuda", ["CUDAExecutionProvider", "CPUExecutionProvider"])
    _check_started(tmp_path / "m.onnx", asked, ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(InputError, match="CUDAExecutionProvider is installed but did not start .*use --device cpu"):
        _check_started(tmp_path / "m.onnx", asked, ["CPUExecutionProvider"])
    _check_started(tmp_path / "m.onnx", ["CPUExecutionProvider"], ["CPUExecutionProvider"])


@pytest.mark.gpu
@pytest.mark.parametrize("precision", [Precision.FP32, Precision.FP16])
def test_torch_cuda_graph_replay_matches_eager(tiny_cls_ckpt: Path, precision: Precision) -> None:
    feeds = {
        "images": np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32),
        "roi_mask": np.ones((2, 1, 64, 64), np.float32),
    }
    eager = TorchRunner.from_checkpoint(tiny_cls_ckpt, device="cuda", precision=precision).infer(feeds)["logits"]
    graphed = TorchRunner.from_checkpoint(tiny_cls_ckpt, device="cuda", precision=precision, cuda_graph=True)
    first = graphed.infer(feeds)["logits"]
    feeds2 = {k: v * 0.5 for k, v in feeds.items()}
    second = graphed.infer(feeds2)["logits"]  # replay with new data in the same static buffers
    tol = 1e-4 if precision == Precision.FP32 else 1e-2
    np.testing.assert_allclose(first, eager, atol=tol, rtol=tol)
    expected = TorchRunner.from_checkpoint(tiny_cls_ckpt, device="cuda", precision=precision).infer(feeds2)["logits"]
    np.testing.assert_allclose(second, expected, atol=tol, rtol=tol)


@pytest.mark.gpu
def test_torch_cuda_fp16_detector_close_to_cpu_fp32(tiny_det_ckpt: Path) -> None:
    x = np.random.default_rng(0).standard_normal((1, 3, 128, 128)).astype(np.float32)
    cpu = TorchRunner.from_checkpoint(tiny_det_ckpt).infer({"images": x})["detections"]
    gpu = TorchRunner.from_checkpoint(tiny_det_ckpt, device="cuda", precision=Precision.FP16, cuda_graph=True).infer(
        {"images": x}
    )["detections"]
    assert gpu.shape == cpu.shape and gpu.dtype == np.float32
    top_cpu, top_gpu = cpu[0, cpu[0, :, 4].argmax()], gpu[0, gpu[0, :, 4].argmax()]
    assert abs(top_cpu[4] - top_gpu[4]) < 1e-2
