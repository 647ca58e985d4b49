"""Detector and ROI inputs normalized on the runner's device: same numbers as the host path, same detections."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from objectix_edge.cascade.device_preprocess import DeviceNormalizer
from objectix_edge.cascade.frame_cascade import Cascade, CascadeConfig
from objectix_edge.enums import Precision, Task
from objectix_edge.errors import InputError
from objectix_edge.modelio.preprocess import letterbox_batch, preprocess_detector_batch
from objectix_edge.modelio.roi_feeds import preprocess_rois
from objectix_edge.runtime.ort_runner import OrtRunner
from objectix_edge.runtime.torch_runner import TorchRunner
from objectix_edge.spec import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Category,
    ChannelOrder,
    ModelSpec,
    ResizeKernel,
    ResizePolicy,
    RoiMode,
)
from tests.conftest import REPO_ROOT

PHOTOS = sorted((REPO_ROOT / "samples" / "coco" / "images").iterdir())


def _photos() -> list[np.ndarray]:
    return [np.asarray(cv2.imread(str(p))) for p in PHOTOS]


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


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def _spec(**kw: object) -> ModelSpec:
    base = ModelSpec(
        name="t", task=Task.ROI_CLASSIFY, input_size=(96, 80), categories=(Category(1, "a"),),
        input_names=("images", "roi_mask"), output_names=("out",),
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kernel", list(ResizeKernel))
@pytest.mark.parametrize("policy", [ResizePolicy.LETTERBOX, ResizePolicy.STRETCH])
def test_frames_fitted_into_the_upload_buffer_equal_the_host_batch(
    device: str, kernel: ResizeKernel, policy: ResizePolicy
) -> None:
    spec = _spec(task=Task.DETECT, resize=policy, resize_kernel=kernel, input_size=(160, 192))
    normalizer = DeviceNormalizer(spec, device)
    photos = _photos()
    for frames in (photos[:1], photos[1:3], photos[:1], [cv2.resize(photos[0], (192, 160))]):  # sizes change
        host, host_boxes = preprocess_detector_batch(frames, spec)
        batch, boxes = normalizer.frames(frames)
        assert boxes == host_boxes and batch.device.type == device
        assert np.abs(batch.cpu().numpy() - host).max() <= 1e-6


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kernel", list(ResizeKernel))
@pytest.mark.parametrize(
    ("mode", "order", "scale"),
    [(RoiMode.CROP, ChannelOrder.RGB, 1.0), (RoiMode.CROP, ChannelOrder.BGR, 255.0),
     (RoiMode.FULL_IMAGE, ChannelOrder.BGR, 255.0), (RoiMode.FULL_IMAGE, ChannelOrder.RGB, 1.0)],
)  # fmt: skip
def test_roi_crops_uploaded_as_uint8_equal_the_host_feeds(
    device: str, kernel: ResizeKernel, mode: RoiMode, order: ChannelOrder, scale: float
) -> None:
    mean, std = ((123.68, 116.779, 103.939), (65.0, 65.0, 65.0)) if scale == 255.0 else (IMAGENET_MEAN, IMAGENET_STD)
    spec = _spec(roi_mode=mode, channel_order=order, pixel_scale=scale, mean=mean, std=std, resize_kernel=kernel)
    if mode == RoiMode.FULL_IMAGE:
        spec = replace(spec, resize=ResizePolicy.KEEP, max_side=320)
    normalizer = DeviceNormalizer(spec, device)
    for photo in _photos()[:3]:
        h, w = photo.shape[:2]
        for boxes in ([[0.3 * w, 0.2 * h, 0.6 * w, 0.7 * h], [10.5, 12.25, 60.75, 40.0], [w - 20.5, h - 9, w, h]],
                      [[5.0, 5.0, 50.0, 90.0]], []):  # fmt: skip
            host = preprocess_rois(photo, boxes, spec)
            feeds = normalizer.rois(photo, boxes)
            assert feeds.keys() == host.keys()
            for name, value in feeds.items():
                assert value.device.type == device and value.dtype == torch.float32
                assert value.shape == host[name].shape
                assert np.abs(value.cpu().numpy() - host[name]).max(initial=0.0) <= 1e-6
    images_only = DeviceNormalizer(replace(spec, input_names=("images",)), device)
    assert list(images_only.rois(_photos()[0], [[1.0, 1.0, 30.0, 30.0]])) == ["images"]


def test_cascade_classifies_rois_on_the_device_like_the_host(tiny_det_ckpt: Path, tiny_cls_ckpt: Path) -> None:
    with TorchRunner.from_checkpoint(tiny_det_ckpt) as det, TorchRunner.from_checkpoint(tiny_cls_ckpt) as cls:
        host = Cascade(det, cls, CascadeConfig(conf=0.0, top_k=4))
        device = Cascade(det, cls, CascadeConfig(conf=0.0, top_k=4, device_preprocess=True))
        assert host.second is not None and host.second.normalizer is None
        assert device.second is not None and device.second.normalizer is not None
        labelled = 0
        for photo in _photos():
            a, b = host(photo), device(photo)
            for x, y in zip(a.detections, b.detections, strict=True):
                assert (x.roi is None) == (y.roi is None)
                if x.roi is not None and y.roi is not None:
                    assert x.roi.category_id == y.roi.category_id
                    assert abs(x.roi.score - y.roi.score) <= 1e-5
                    labelled += 1
    assert labelled > 0
