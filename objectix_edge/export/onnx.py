"""PyTorch → ONNX: dynamo export, simplification, checker + shape inference, ModelSpec in the metadata.

The file is deterministic: the exporter and onnxslim produce the same graph for the same weights, and
we write no timestamps or paths, so re-exporting gives byte-identical bytes (checked in tests).
"""

from __future__ import annotations

import copy
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx
import torch
from torch import nn

from objectix_edge.defaults import ONNX_DYNAMIC_BATCH, ONNX_OPSET, ONNX_SIMPLIFY
from objectix_edge.enums import Precision, Task
from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.export.metadata import stamp_model
from objectix_edge.fileio import ensure_writable_dir, write_bytes_atomic
from objectix_edge.models.checkpoint import Checkpoint, load_checkpoint, model_from_spec
from objectix_edge.outputs import check_outputs
from objectix_edge.spec import ModelSpec

# 18 is the lowest opset torch's dynamo exporter implements (lower ones go through a lossy converter);
# 23 is the newest ONNX Runtime 1.32 runs. TensorRT 10's parser reads all of them for our op set.
MIN_OPSET, MAX_OPSET = 18, 23
DEFAULT_OPSET = ONNX_OPSET
MAX_BATCH = 64
MIN_SIDE, MAX_SIDE = 32, 4096  # image sides a dynamic-size (resize=keep) model is exported for

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colour codes some exporter messages carry


@dataclass(frozen=True)
class ExportConfig:
    """How to export: input size (None = the checkpoint's), opset, dynamic batch axis, simplification."""

    imgsz: int | None = None
    opset: int = DEFAULT_OPSET
    dynamic_batch: bool = ONNX_DYNAMIC_BATCH
    simplify: bool = ONNX_SIMPLIFY
    max_batch: int = MAX_BATCH

    def validate(self) -> None:
        if not MIN_OPSET <= self.opset <= MAX_OPSET:
            raise InputError(f"opset {self.opset} is not supported; choose --opset between {MIN_OPSET} and {MAX_OPSET}")
        if self.imgsz is not None and self.imgsz <= 0:
            raise InputError(f"--imgsz must be positive, got {self.imgsz}")
        if self.max_batch < 2:
            raise InputError(f"max batch must be at least 2, got {self.max_batch}")


def _resolve(source: Path | str | Checkpoint | nn.Module) -> tuple[nn.Module, ModelSpec, str]:
    """(eval-mode CPU FP32 copy of the model, its spec, a name for messages)."""
    if isinstance(source, (str, Path)):
        ckpt = load_checkpoint(source)
        return ckpt.model, ckpt.spec, str(source)
    if isinstance(source, Checkpoint):
        model, spec = source.model, source.spec
    elif isinstance(source, nn.Module) and isinstance(attached := getattr(source, "spec", None), ModelSpec):
        model, spec = source, attached
    else:
        raise InputError(
            f"cannot export {type(source).__name__}; pass a checkpoint path, Checkpoint or registered model"
        )
    # A copy, so exporting never moves or changes the caller's model.
    return copy.deepcopy(model).cpu().float().eval(), spec, spec.name


def _with_imgsz(model: nn.Module, spec: ModelSpec, imgsz: int | None, source: str) -> tuple[nn.Module, ModelSpec]:
    """Rebuild the spec (and model) for another input size; weights are size-independent."""
    if imgsz is None or (imgsz, imgsz) == spec.input_size:
        return model, spec
    if "imgsz" not in spec.model_kwargs:
        raise InputError(f"{source}: {spec.name} runs at {spec.input_size[1]}×{spec.input_size[0]} only; drop --imgsz")
    if spec.task == Task.DETECT and imgsz % 32:
        raise InputError(f"{source}: detector --imgsz must be a multiple of 32, got {imgsz}")
    new_spec = ModelSpec.from_dict(
        {**spec.to_dict(), "input_size": [imgsz, imgsz], "model_kwargs": {**spec.model_kwargs, "imgsz": imgsz}}
    )
    new_model = model_from_spec(new_spec)
    new_model.load_state_dict(model.state_dict())
    return new_model.eval(), new_spec


def example_inputs(spec: ModelSpec, batch: int) -> tuple[torch.Tensor, ...]:
    """Deterministic example inputs in the spec's input order (images, and roi_mask for the classifier)."""
    h, w = spec.input_size
    gen = torch.Generator().manual_seed(0)
    tensors = {"images": torch.randn(batch, 3, h, w, generator=gen), "roi_mask": torch.ones(batch, 1, h, w)}
    return tuple(tensors[name] for name in spec.input_names)


def _torch_export(model: nn.Module, spec: ModelSpec, config: ExportConfig, source: str) -> onnx.ModelProto:
    # Trace at batch 2: batch 1 would let the exporter specialize the batch axis to a constant.
    batch = 2 if config.dynamic_batch else 1
    dynamic = None
    if config.dynamic_batch or spec.dynamic_hw:
        axes: dict[int, Any] = {}
        if config.dynamic_batch:
            axes[0] = torch.export.Dim("batch", min=1, max=config.max_batch)
        if spec.dynamic_hw:  # the model takes any image size (resize=keep): height and width stay dynamic
            axes[2] = torch.export.Dim("height", min=MIN_SIDE, max=MAX_SIDE)
            axes[3] = torch.export.Dim("width", min=MIN_SIDE, max=MAX_SIDE)
        dynamic = {name: dict(axes) for name in spec.input_names}
    try:
        # verbose=False keeps the exporter from printing (no process-wide stdout redirect needed).
        with torch.no_grad(), warnings.catch_warnings():
            # One Dim shared by images and roi_mask is intended (same batch); the exporter warns about it.
            warnings.filterwarnings("ignore", message="# The axis name")
            program = torch.onnx.export(
                model,
                example_inputs(spec, batch),
                None,
                dynamo=True,
                input_names=list(spec.input_names),
                output_names=list(spec.output_names),
                dynamic_shapes=dynamic,
                opset_version=config.opset,
                external_data=False,
                verbose=False,
            )
    except Exception as exc:  # the exporter raises many unrelated types; report the first line, keep the cause
        first = ANSI_ESCAPE.sub("", (str(exc).strip().splitlines() or [type(exc).__name__])[0])
        raise ArtifactError(f"{source}: torch.onnx export failed ({first}); run with --debug for the trace") from exc
    if program is None:  # only the legacy (dynamo=False) exporter returns nothing
        raise ArtifactError(f"{source}: torch.onnx export returned no ONNX program; run with --debug for the trace")
    return program.model_proto


def _simplify(model: onnx.ModelProto) -> onnx.ModelProto:
    import onnxslim

    return onnxslim.slim(model)


def _check(model: onnx.ModelProto, spec: ModelSpec, source: str) -> onnx.ModelProto:
    """onnx.checker + strict shape inference; then confirm the I/O contract of the spec."""
    try:
        onnx.checker.check_model(model)
        model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ArtifactError(f"{source}: exported graph fails the ONNX checker ({str(exc).splitlines()[0]})") from exc
    inputs = tuple(i.name for i in model.graph.input)
    outputs = tuple(o.name for o in model.graph.output)
    if inputs != spec.input_names or outputs != spec.output_names:
        raise ArtifactError(
            f"{source}: exported I/O {inputs} → {outputs} differs from the spec's "
            f"{spec.input_names} → {spec.output_names}"
        )
    if spec.task == Task.DETECT:
        dims = [d.dim_value or d.dim_param for d in model.graph.output[0].type.tensor_type.shape.dim]
        if dims[1:] != [spec.max_det, 6]:
            raise ArtifactError(f"{source}: detector output has shape {dims}, expected [B, {spec.max_det}, 6]")
    return model


def _canonicalize(model: onnx.ModelProto) -> None:
    """Name the dynamic axes 'batch' (and 'height', 'width' of the inputs); the exporter may pick its own symbols."""
    names = {0: "batch", 2: "height", 3: "width"}
    for value in model.graph.input:
        for i, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.dim_param and i in names:
                dim.dim_param = names[i]
    for value in model.graph.output:
        dim0 = value.type.tensor_type.shape.dim[0]
        if dim0.dim_param:
            dim0.dim_param = "batch"


def build_onnx(source: Path | str | Checkpoint | nn.Module, config: ExportConfig) -> tuple[onnx.ModelProto, ModelSpec]:
    """Export to an in-memory, checked, stamped ModelProto (what ``export_onnx`` writes)."""
    config.validate()
    model, spec, name = _resolve(source)
    model, spec = _with_imgsz(model, spec, config.imgsz, name)
    proto = _torch_export(model, spec, config, name)
    if config.simplify:
        proto = _simplify(proto)
    _canonicalize(proto)
    proto = _check(proto, spec, name)
    stamp_model(proto, spec, Precision.FP32)
    return proto, spec


def export_onnx(
    checkpoint: Path | str | Checkpoint | nn.Module, out: Path | str, config: ExportConfig = ExportConfig()
) -> Path:
    """Export a checkpoint (or model) to ``out`` atomically; returns ``out``."""
    out = Path(out)
    if isinstance(checkpoint, (str, Path)):
        if Path(checkpoint).suffix.lower() == ".onnx":
            raise InputError(
                f"{checkpoint}: is an ONNX file already; export takes a checkpoint (.pt) from objx-edge train or import"
            )
        check_outputs({"-o": out}, {"checkpoint": checkpoint}, folders=("-o",))  # a folder: the line below
    ensure_writable_dir(out)  # fail before the (slow) export, not after it
    if out.is_dir():
        raise InputError(f"{out}: is a folder; give a file path ending in .onnx")
    proto, _ = build_onnx(checkpoint, config)
    write_bytes_atomic(out, proto.SerializeToString(deterministic=True))
    return out


def default_onnx_path(checkpoint: Path) -> Path:
    """``runs/x/best.pt`` → ``runs/x/best.onnx`` (beside the checkpoint, never the current folder)."""
    return Path(checkpoint).with_suffix(".onnx")
