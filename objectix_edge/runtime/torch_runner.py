"""PyTorch backend: runs a checkpoint's model eagerly (CPU or CUDA, FP32 or FP16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch import nn

from objectix_edge.enums import Backend, Precision
from objectix_edge.errors import InputError
from objectix_edge.runtime.base import Runner, TensorInfo
from objectix_edge.spec import ModelSpec


class TorchRunner(Runner):
    """Eager PyTorch runner. numpy feeds give numpy results; Tensor feeds give Tensors on the device."""

    backend = Backend.TORCH

    def __init__(
        self,
        model: nn.Module,
        spec: ModelSpec,
        path: Path | None = None,
        device: str = "cpu",
        precision: Precision = Precision.FP32,
    ) -> None:
        super().__init__(path, spec)
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise InputError(f"{path or spec.name}: device {device!r} asked for, but torch sees no CUDA GPU; use --device cpu")
        if precision == Precision.INT8:
            raise InputError("the torch backend runs fp32 or fp16; INT8 lives in the ONNX (objx-edge calibrate --int8)")
        if precision == Precision.FP16 and not device.startswith("cuda"):
            raise InputError("fp16 on the torch backend needs a CUDA device; use --device cuda or fp32")
        self._device = torch.device(device)
        self._dtype = torch.float16 if precision == Precision.FP16 else torch.float32
        self.precision = precision
        self.model = model.to(self._device, self._dtype).eval()

    @property
    def device(self) -> str:
        return str(self._device)

    def inputs(self) -> list[TensorInfo]:
        h, w = self.spec.input_size
        channels = {"images": 3, "roi_mask": 1}
        return [TensorInfo(n, (-1, channels.get(n, 3), h, w), np.dtype(np.float32)) for n in self.spec.input_names]

    def outputs(self) -> list[TensorInfo]:
        if self.spec.task.value == "detect":
            return [TensorInfo("detections", (-1, self.spec.max_det, 6), np.dtype(np.float32))]
        return [TensorInfo("logits", (-1, self.spec.num_classes), np.dtype(np.float32))]

    def _to_device(self, value: Any) -> torch.Tensor:
        tensor = torch.from_numpy(value) if isinstance(value, np.ndarray) else value
        return tensor.to(self._device, self._dtype, non_blocking=True)

    @torch.inference_mode()
    def _infer(self, feeds: Mapping[str, Any]) -> dict[str, Any]:
        as_numpy = any(isinstance(v, np.ndarray) for v in feeds.values())
        args = [self._to_device(feeds[name]) for name in self.spec.input_names]
        out = self.model(*args).float()
        name = self.spec.output_names[0]
        return {name: out.cpu().numpy() if as_numpy else out}
