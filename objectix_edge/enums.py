"""Enums shared across the package: tasks, precisions, backends, calibration methods, INT8 forms."""

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
