"""What a Runner declares (capabilities), ``infer(check=False)`` and inputs described once, on real
torch and ONNX Runtime runners (the TensorRT runner's declaration is checked in test_trt.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from objectix_edge.cpu_isa import CpuIsa
from objectix_edge.enums import Int8Form, Precision
from objectix_edge.errors import InputError
from objectix_edge.runtime.base import RunnerCapabilities
from objectix_edge.runtime.int8_kernels import Int8Kernels
from objectix_edge.runtime.ort_runner import OrtRunner
from objectix_edge.runtime.torch_runner import TorchRunner
from tests.runtime.recording import RecordingTorchRunner
from tests.runtime.test_int8_kernels import _one_conv_qdq


def _roi_feeds(batch: int, dtype: type = np.float32) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(batch)
    mask: np.ndarray = np.zeros((batch, 1, 64, 64), dtype)
    mask[..., 16:48, 16:48] = 1
    return {"images": rng.standard_normal((batch, 3, 64, 64)).astype(dtype), "roi_mask": mask}


def test_torch_cpu_takes_device_tensors_on_the_current_stream(tiny_det_ckpt: Path) -> None:
    with TorchRunner.from_checkpoint(tiny_det_ckpt) as runner:
        assert runner.capabilities == RunnerCapabilities(device_tensors=True, precision=Precision.FP32)
        assert not runner.capabilities.stream and runner.cuda_stream is None
        feeds = {"images": np.zeros((1, 3, 128, 128), np.float32)}
        with pytest.raises(InputError, match="has no CUDA stream of its own; call infer"):
            runner.enqueue(feeds)


def test_ort_cpu_fp32_takes_numpy_and_has_no_int8_kernels(tiny_det_onnx: Path) -> None:
    with OrtRunner(tiny_det_onnx, threads=1) as runner:
        assert runner.capabilities == RunnerCapabilities(precision=Precision.FP32)
        assert runner.cuda_stream is None


@pytest.mark.parametrize(("judge", "kernels"), [(True, Int8Kernels.SIMULATED), (False, Int8Kernels.NATIVE)])
def test_ort_int8_file_declares_its_kernels(tmp_path: Path, judge: bool, kernels: Int8Kernels) -> None:
    path = tmp_path / "one_conv.int8.onnx"
    _one_conv_qdq(path, Int8Form.TENSORRT, CpuIsa.UNKNOWN, np.random.default_rng(0))
    with OrtRunner(path, judge=judge) as runner:
        assert runner.capabilities == RunnerCapabilities(int8_kernels=kernels, precision=Precision.INT8)


def test_check_false_skips_validation_and_check_true_still_refuses(tiny_cls_ckpt: Path) -> None:
    runner = TorchRunner.from_checkpoint(tiny_cls_ckpt)
    good, wide = _roi_feeds(2), _roi_feeds(2, np.float64)
    with pytest.raises(InputError, match="has dtype float64") as fresh:
        TorchRunner.from_checkpoint(tiny_cls_ckpt).infer(wide)
    # Unchecked, the float64 feeds reach the model (which casts them to its dtype).
    unchecked = runner.infer(wide, check=False)["logits"]
    np.testing.assert_array_equal(unchecked, runner.infer(good)["logits"])
    # Skipping the check once does not switch it off: the same refusal as a fresh runner's.
    with pytest.raises(InputError) as again:
        runner.infer(wide)
    assert str(again.value) == str(fresh.value)
    with pytest.raises(InputError, match="expects inputs"):
        runner.infer({"images": good["images"]})


def test_inputs_are_described_once_not_per_call(tiny_cls_ckpt: Path, tiny_cls_onnx: Path) -> None:
    runner = RecordingTorchRunner.load(tiny_cls_ckpt)
    for batch in (1, 2, 3, 2):
        runner.infer(_roi_feeds(batch))
    assert runner.checks == [True] * 4 and runner.input_calls == 1
    with pytest.raises(InputError, match="has dtype float64"):
        runner.infer(_roi_feeds(1, np.float64))
    assert runner.input_calls == 1
    # The descriptions themselves are made once: each call hands out the same TensorInfo objects.
    with OrtRunner(tiny_cls_onnx, threads=1) as ort:
        for r in (runner, ort):
            first, second = r.inputs(), r.inputs()
            assert first == second and all(a is b for a, b in zip(first, second, strict=True))
            assert r.outputs() == r.outputs()
