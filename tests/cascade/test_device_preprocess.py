"""Detector input normalized on the runner's device: same numbers as the host path, same detections."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from objectix_edge.cascade.device_preprocess import DeviceNormalizer
from objectix_edge.cascade.frame_cascade import Cascade, CascadeConfig
from objectix_edge.enums import Precision
from objectix_edge.errors import InputError
from objectix_edge.modelio.preprocess import letterbox_batch, preprocess_detector_batch
from objectix_edge.runtime.ort_runner import OrtRunner
from objectix_edge.runtime.torch_runner import TorchRunner
from tests.conftest import REPO_ROOT

PHOTOS = sorted((REPO_ROOT / "samples" / "coco" / "images").iterdir())


def _photos() -> list[np.ndarray]:
    return [cv2.imread(str(p)) for p in PHOTOS]


def _rows(result) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(
        [[*d.detection.box, d.detection.score, d.detection.class_index] for d in result.detections], np.float64
    ).reshape(-1, 6)


def test_normalizing_in_torch_equals_the_host_path(tiny_det_ckpt: Path) -> None:
    spec = TorchRunner.from_checkpoint(tiny_det_ckpt).spec
    photos = _photos()
    host, host_boxes = preprocess_detector_batch(photos, spec)
    boxed, boxes = letterbox_batch(photos, spec)
    device = DeviceNormalizer(spec, "cpu")(boxed).numpy()
    assert boxed.dtype == np.uint8 and boxed.shape == (len(photos), *spec.input_size, 3)
    assert boxes == host_boxes and device.shape == host.shape and device.dtype == np.float32
    assert np.abs(device - host).max() <= 1e-6


def test_cascade_gives_the_same_detections_with_device_preprocessing(tiny_det_ckpt: Path) -> None:
    with TorchRunner.from_checkpoint(tiny_det_ckpt) as runner:
        host = Cascade(runner, None, CascadeConfig(conf=0.05))
        device = Cascade(runner, None, CascadeConfig(conf=0.05, device_preprocess=True))
        assert host.normalizer is None and device.normalizer is not None  # auto: off on the CPU
        total = 0
        for photo in _photos():
            a, b = _rows(host(photo)), _rows(device(photo))
            np.testing.assert_allclose(b, a, atol=1e-4)
            total += len(a)
    assert total > 0


def test_device_preprocessing_needs_a_tensor_runner(tiny_det_onnx: Path) -> None:
    with OrtRunner(tiny_det_onnx) as runner, pytest.raises(InputError, match="needs a torch or TensorRT runner"):
        Cascade(runner, None, CascadeConfig(device_preprocess=True))


@pytest.mark.gpu
@pytest.mark.parametrize("precision", [Precision.FP32, Precision.FP16])
def test_cuda_runner_preprocesses_on_the_gpu_by_default(tiny_det_ckpt: Path, precision: Precision) -> None:
    with TorchRunner.from_checkpoint(tiny_det_ckpt, device="cuda", precision=precision) as runner:
        gpu = Cascade(runner, None, CascadeConfig(conf=0.05))
        host = Cascade(runner, None, CascadeConfig(conf=0.05, device_preprocess=False))
        assert gpu.normalizer is not None and gpu.normalizer.cuda
        tol = 1e-3 if precision == Precision.FP32 else 5e-2
        # Alternating frame sizes and contents: the reused pinned buffer must never leak the last frame.
        for photo in _photos() * 2:
            a, b = _rows(host(photo)), _rows(gpu(photo))
            assert abs(len(a) - len(b)) <= 1  # a score within rounding of the threshold may cross it
            n = min(len(a), len(b), 10)
            np.testing.assert_allclose(b[:n, 4], a[:n, 4], atol=tol)  # best-first scores
