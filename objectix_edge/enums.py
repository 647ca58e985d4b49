"""Enums shared across the package: tasks, precisions, backends, calibration methods, INT8 forms, deployment
artifact kinds, second-stage modes."""

from __future__ import annotations

from enum import Enum


class Task(str, Enum):
    DETECT = "detect"
    ROI_CLASSIFY = "roi-classify"
    CLASSIFY = "classify"


class Precision(str, Enum):
    FP32 = "fp32"
    FP16 = "fp16"
    INT8 = "int8"


class Backend(str, Enum):
    TORCH = "torch"
    ONNXRUNTIME = "onnxruntime"
    TENSORRT = "tensorrt"


class CalibMethod(str, Enum):
    ENTROPY = "entropy"
    MINMAX = "minmax"
    PERCENTILE = "percentile"


class Int8Form(str, Enum):
    """The two Q/DQ files one calibration makes: for TensorRT (s8/s8, symmetric) and for ONNX Runtime's CPU kernels."""

    TENSORRT = "int8"
    CPU = "int8cpu"


class ArtifactKind(str, Enum):
    """The files a deployment makes, by kind: the keys of ``DeployContext.artifacts`` and the ``name`` of each
    artifact in report.json."""

    SPLIT_CALIB = "split-calib"
    SPLIT_HOLDOUT = "split-holdout"
    ONNX_FP32 = "onnx-fp32"
    ONNX_FP16 = "onnx-fp16"
    ONNX_INT8 = "onnx-int8"
    ONNX_INT8CPU = "onnx-int8cpu"
    CALIB_CACHE = "calib-cache"
    ENGINE_FP16 = "engine-fp16"
    ENGINE_FP16_SIDECAR = "engine-fp16-sidecar"
    ENGINE_INT8 = "engine-int8"
    ENGINE_INT8_SIDECAR = "engine-int8-sidecar"
    BENCH_JSON = "bench-json"
    BENCH_CSV = "bench-csv"
    BENCH_PLOT = "bench-plot"

    @classmethod
    def onnx(cls, form: Int8Form) -> ArtifactKind:
        """The ONNX artifact of one INT8 form (``int8`` → ``onnx-int8``, ``int8cpu`` → ``onnx-int8cpu``)."""
        return cls(f"onnx-{form.value}")

    @property
    def sidecar(self) -> ArtifactKind:
        """An engine's sidecar JSON kind (``engine-fp16`` → ``engine-fp16-sidecar``)."""
        return ArtifactKind(f"{self.value}-sidecar")


class SecondStageMode(str, Enum):
    """How the cascade's ROI classifier is fed (cascade/second_stage.py): every box of every frame (no
    tracking), tracks when due in the inference thread, or tracks when due on the classifier's own worker."""

    EVERY_BOX = "every box"
    TRACKED = "tracked"
    ASYNC = "async"


# The ModelSpec's preprocessing and ROI enums (spec.py uses them; spec_check validates against them).
class ChannelOrder(str, Enum):
    """Channel order of the model input (OpenCV reads BGR; torchvision/PIL give RGB)."""

    RGB = "rgb"
    BGR = "bgr"


class ResizePolicy(str, Enum):
    """How an image becomes the model input: letterbox to ``input_size`` (aspect kept, padded), stretch to
    ``input_size``, or keep the image's own size (long side capped at ``max_side`` when it is set)."""

    LETTERBOX = "letterbox"
    STRETCH = "stretch"
    KEEP = "keep"


class ResizeKernel(str, Enum):
    """``area``: OpenCV area when shrinking, bilinear when enlarging, on uint8 (version 1's choice);
    ``bilinear``: OpenCV bilinear on float pixels (= ``F.interpolate(mode="bilinear")``, no antialias);
    ``pil-bilinear``: Pillow's antialiased bilinear (torchvision ``Resize`` on PIL images).

    Which is exact against what: ``bilinear`` is the one float resize, because it must match a torch
    reference: the frame is converted to float32 and resized by OpenCV, equal to ``F.interpolate`` (0
    difference at 2× scales, ≤ 0.01 of a pixel level at others: coefficient rounding), where uint8
    bilinear is up to 0.8 levels off. ``area`` and ``pil-bilinear`` are uint8 in and out,
    exact against OpenCV's and Pillow's own uint8 resize, and the only float work after them is the
    normalization (tests/modelio/test_preprocess_parity.py)."""

    AREA = "area"
    BILINEAR = "bilinear"
    PIL_BILINEAR = "pil-bilinear"


class RoiMode(str, Enum):
    """How an ROI enters an ROI classifier: the box cropped with context + its mask (``resnet50-roi``), or
    the whole image + the ROI mask (ObjectiX)."""

    CROP = "crop"
    FULL_IMAGE = "full-image"
