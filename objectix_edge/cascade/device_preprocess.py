"""Detector input normalized on the runner's device: upload uint8, convert and normalize there.

On a GPU the camera loop is CPU-bound (DESIGN.md: 2.0 ms of letterbox + normalize per 320 px frame on one
core against 0.5 ms of FP16 inference; 0.2-0.4 ms since the in-place host path, benchmarks/preprocess.py).
Here the CPU only letterboxes (uint8, cv2) straight into a reused pinned buffer, which goes up as uint8
(4× fewer bytes than float32); BGR→RGB, scaling and mean/std run on the device. ROI classifiers' crops (or their one frame, ``full-image``) go the same way. The
arithmetic is the host path's (``preprocess.normalize``) in the same order, so both paths give the same
input to within float32 rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from objectix_edge.modelio.preprocess import Letterbox, channel_stats, fit, fitted_size, letterbox_batch
from objectix_edge.modelio.roi_feeds import crop_batch, preprocess_rois, roi_masks
from objectix_edge.runtime.base import Runner
from objectix_edge.spec import ChannelOrder, ModelSpec, ResizeKernel, RoiMode


def on_cuda(runner: Runner) -> bool:
    """True when ``runner`` runs on a CUDA device that torch can reach (so device preprocessing pays)."""
    if not (runner.capabilities.device_tensors and runner.device.startswith("cuda")):
        return False
    import torch

    return bool(torch.cuda.is_available())


class DeviceNormalizer:
    """``[B, H, W, 3]`` uint8 BGR (letterboxed) → ``[B, 3, H, W]`` float32 normalized, on ``device``.

    ``frames`` and ``rois`` fit the host images straight into the reused upload buffer's numpy view
    (pinned on CUDA), so the only host copy is the resize itself.
    """

    def __init__(self, spec: ModelSpec, device: str) -> None:
        import torch

        self.torch = torch
        self.spec = spec
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"

        mean, inv_std = channel_stats(spec)
        self.flip = spec.channel_order == ChannelOrder.RGB
        self.mean = torch.from_numpy(mean).reshape(1, 3, 1, 1).to(self.device)
        self.inv_std = torch.from_numpy(inv_std).reshape(1, 3, 1, 1).to(self.device)
        self._pinned: Any = None
        self._uploaded: Any = None  # CUDA event: the pinned buffer may be refilled once the copy is done

    def _buffer(self, shape: tuple[int, ...], dtype: np.dtype) -> Any:
        """A host tensor of ``shape`` to fill (pinned on CUDA, reused: only a larger batch or another
        image size allocates), once the previous upload has left it."""
        torch = self.torch
        tdtype = torch.from_numpy(np.empty(0, dtype)).dtype
        if not self.cuda:
            return torch.empty(shape, dtype=tdtype)
        old = self._pinned
        if old is None or old.dtype != tdtype or old.shape[1:] != shape[1:] or old.shape[0] < shape[0]:
            self._pinned = torch.empty(shape, dtype=tdtype).pin_memory()
            self._uploaded = torch.cuda.Event()
        else:
            self._uploaded.synchronize()  # the previous frame's copy must have left the buffer
        return self._pinned[: shape[0]]

    def _send(self, host: Any) -> Any:
        """The filled host buffer → the device (asynchronous from pinned memory)."""
        if not self.cuda:
            return host
        device_batch = host.to(self.device, non_blocking=True)
        self._uploaded.record(self.torch.cuda.current_stream(self.device))
        return device_batch

    def _upload(self, boxed_bgr: np.ndarray) -> Any:
        if not self.cuda:  # the array itself is the batch: no copy
            return self.torch.from_numpy(np.ascontiguousarray(boxed_bgr))
        host = self._buffer(boxed_bgr.shape, boxed_bgr.dtype)
        host.copy_(self.torch.from_numpy(np.ascontiguousarray(boxed_bgr)))
        return self._send(host)

    def _normalize(self, x: Any) -> Any:
        x = x.permute(0, 3, 1, 2)  # NHWC → NCHW
        x = x.flip(1) if self.flip else x  # BGR → RGB when the spec asks for RGB
        return ((x.float() - self.mean) * self.inv_std).contiguous()

    def __call__(self, boxed_bgr: np.ndarray) -> Any:
        return self._normalize(self._upload(boxed_bgr))

    def _pixel_dtype(self, image: np.ndarray) -> np.dtype:
        # A float kernel resizes in float32; a frame already of the size (uint8) then goes up as float too.
        kernel_float = self.spec.resize_kernel == ResizeKernel.BILINEAR
        return np.dtype(np.float32) if kernel_float else image.dtype

    def frames(self, images_bgr: Sequence[np.ndarray]) -> tuple[Any, list[Letterbox]]:
        """BGR frames → (normalized ``[B, 3, H, W]`` on the device, one Letterbox per frame), the frames
        letterboxed straight into the upload buffer. Same numbers as ``preprocess_detector_batch``."""

        sizes = {fitted_size(i.shape[0], i.shape[1], self.spec) for i in images_bgr}
        if len(sizes) != 1:  # none, or frames of different sizes kept at their own: np.stack says so
            boxed, boxes = letterbox_batch(images_bgr, self.spec)
            return self(boxed), boxes
        host = self._buffer((len(images_bgr), *sizes.pop(), 3), self._pixel_dtype(images_bgr[0]))
        _, boxes = letterbox_batch(images_bgr, self.spec, out=host.numpy())
        return self._normalize(self._send(host)), boxes

    def rois(self, image_bgr: np.ndarray, boxes: Sequence[Sequence[float]] | np.ndarray) -> dict[str, Any]:
        """An ROI classifier's feeds on the device, as ``preprocess_rois`` gives them on the host: the crops
        (or the one frame of ``full-image``) go up as uint8 and are normalized there; masks go up as uint8."""

        torch, spec = self.torch, self.spec
        if len(boxes) == 0:  # nothing to upload: the host's empty batch, moved
            return {k: torch.from_numpy(v).to(self.device) for k, v in preprocess_rois(image_bgr, boxes, spec).items()}
        if spec.roi_mode == RoiMode.FULL_IMAGE:
            h, w = fitted_size(image_bgr.shape[0], image_bgr.shape[1], spec)
            host = self._buffer((1, h, w, 3), self._pixel_dtype(image_bgr))
            _, lb = fit(image_bgr, spec, out=host.numpy()[0])
            image = self._normalize(self._send(host))
            masks = roi_masks(boxes, lb, h, w, np.uint8)
            feeds = {"images": image.expand(len(boxes), -1, -1, -1).contiguous()}
        else:
            host = self._buffer((len(boxes), *spec.input_size, 3), self._pixel_dtype(image_bgr))
            _, masks = crop_batch(image_bgr, boxes, spec, out=host.numpy(), mask_dtype=np.uint8)
            feeds = {"images": self._normalize(self._send(host))}
        feeds["roi_mask"] = torch.from_numpy(masks).to(self.device).float()  # 0/1: exact in any dtype
        return {k: v for k, v in feeds.items() if k in spec.input_names}
