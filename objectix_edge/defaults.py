"""One source for each default: a command's option reads the library dataclass's own field default."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

from objectix_edge.enums import CalibMethod

# Defaults of dataclasses whose modules are too heavy for the CLI to import at start-up (they load onnx):
# the dataclass field and the command's option both read the constant here.
CALIB_IMAGES = 512  # calib.int8.Int8Config.num_images: calibrate / build-engine --num-images
CALIB_METHOD = CalibMethod.ENTROPY  # Int8Config.method: calibrate --method
CALIB_SEED = 0  # Int8Config.seed: calibrate --seed
CALIB_BATCH = 8  # Int8Config.batch_size: calibrate --batch
WORKSPACE_GIB = 2.0  # runtime.trt_build.EngineConfig.workspace_gib: build-engine --workspace
ENGINE_TF32 = False  # EngineConfig.tf32: build-engine --tf32
ONNX_OPSET = 18  # export.onnx.ExportConfig.opset (DEFAULT_OPSET): export --opset
ONNX_DYNAMIC_BATCH = True  # ExportConfig.dynamic_batch: export --dynamic-batch/--static-batch
ONNX_SIMPLIFY = True  # ExportConfig.simplify: export --simplify/--no-simplify
# The importers' options (models/importers/*.py load torch): import --max-side, --arch, --imgsz, --num-classes, ...
OBJECTIX_MAX_SIDE = 640
TORCHVISION_ARCH = "resnet50"
TORCHVISION_IMGSZ = 256
MOBILELIKE_NUM_CLASSES = 1
MOBILELIKE_BOXES = 1
MOBILELIKE_BOX_FORMAT = "xywh"
MOBILELIKE_BOXES_SCALED = False
# Parameters of library calls a command exposes whose modules load torch (eval.eval_report.evaluate_artifact,
# serve.predict.predict_file): eval --batch, --conf, --roi-mask, --per-class-images; eval/predict --device.
EVAL_BATCH = 8
EVAL_CONF = 0.001  # COCO practice: keep nearly every detection for mAP
EVAL_ROI_MASK = "box"
EVAL_PER_CLASS_IMAGES = 0
DEVICE = "cpu"


def default_of(cls: type, name: str) -> Any:
    """The default of dataclass ``cls``'s field ``name`` (a default_factory is called); KeyError if it has none."""
    for f in dataclasses.fields(cls):
        if f.name != name:
            continue
        if f.default is not dataclasses.MISSING:
            return f.default
        if f.default_factory is not dataclasses.MISSING:
            return f.default_factory()
        raise KeyError(f"{cls.__name__}.{name} has no default")
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def default_arg(func: Callable[..., Any], name: str) -> Any:
    """The default of ``func``'s parameter ``name`` (a library call whose options a command exposes)."""
    default = inspect.signature(func).parameters[name].default
    if default is inspect.Parameter.empty:
        raise KeyError(f"{func.__name__}({name}) has no default")
    return default
