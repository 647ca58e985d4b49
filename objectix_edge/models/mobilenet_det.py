"""MobileNet-style detector with an FPN-lite neck and an NMS-free CenterNet-style head.

In eval mode ``forward`` returns ``detections[B, max_det, 6]`` = x1, y1, x2, y2 (input pixels), score,
class index, decoded inside the graph from standard ops (sigmoid, 3x3 max-pool peaks, TopK, gathers),
so ONNX Runtime and TensorRT run the model end to end. In train mode it returns the raw head maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from objectix_edge.categories import COCO_CATEGORIES
from objectix_edge.enums import Task
from objectix_edge.models.layers import ConvBNAct, DepthwiseSeparable, InvertedResidual, conv_bias, make_divisible
from objectix_edge.models.registry import register_model
from objectix_edge.spec import Category, ModelSpec

# (expand ratio, channels, repeats, stride) per stage, as in MobileNetV2.
MOBILENET_V2_STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
# Stage indices whose outputs feed the neck: strides 4, 8, 16, 32.
FEATURE_STAGES = (1, 2, 4, 6)
MAX_LOG_SIZE = 8.0  # exp(8) * stride covers any box; the clamp keeps FP16 from overflowing.


class MobileNetBackbone(nn.Module):
    """MobileNetV2 trunk returning the stride-4/8/16/32 feature maps."""

    def __init__(self, width_mult: float = 1.0, depth_mult: float = 1.0, act: str = "relu6") -> None:
        super().__init__()
        cin = make_divisible(32 * width_mult)
        self.stem = ConvBNAct(3, cin, 3, 2, act=act)
        self.stages = nn.ModuleList()
        self.out_channels: list[int] = []
        for idx, (t, c, n, s) in enumerate(MOBILENET_V2_STAGES):
            cout = make_divisible(c * width_mult)
            repeats = max(1, round(n * depth_mult))
            blocks = [
                InvertedResidual(cin if i == 0 else cout, cout, s if i == 0 else 1, t, act) for i in range(repeats)
            ]
            self.stages.append(nn.Sequential(*blocks))
            cin = cout
            if idx in FEATURE_STAGES:
                self.out_channels.append(cout)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.stem(x)
        feats = []
        for idx, stage in enumerate(self.stages):
            x = stage(x)
            if idx in FEATURE_STAGES:
                feats.append(x)
        return feats


class FPNLite(nn.Module):
    """Top-down feature pyramid with 1x1 laterals, nearest upsampling and depthwise-separable smoothing."""

    def __init__(self, in_channels: Sequence[int], channels: int, out_level: int, act: str = "relu6") -> None:
        super().__init__()
        self.out_level = out_level  # index into in_channels: 0 = stride 4, 1 = stride 8
        used = list(in_channels)[out_level:]
        self.laterals = nn.ModuleList(ConvBNAct(c, channels, 1, act=act) for c in used)
        self.smooth = nn.ModuleList(DepthwiseSeparable(channels, channels, act=act) for _ in used[:-1])

    def forward(self, feats: list[Tensor]) -> Tensor:
        feats = feats[self.out_level :]
        x = self.laterals[-1](feats[-1])
        for i in range(len(feats) - 2, -1, -1):
            x = F.interpolate(x, scale_factor=2.0, mode="nearest") + self.laterals[i](feats[i])
            x = self.smooth[i](x)
        return x


class CenterHead(nn.Module):
    """Three small branches: class heatmap logits, log box size (in strides), centre offset."""

    def __init__(self, channels: int, num_classes: int, act: str = "relu6", prior: float = 0.01) -> None:
        super().__init__()

        def branch(cout: int) -> nn.Sequential:
            return nn.Sequential(DepthwiseSeparable(channels, channels, act=act), nn.Conv2d(channels, cout, 1))

        self.heatmap = branch(num_classes)
        self.size = branch(2)
        self.offset = branch(2)
        # nn.Sequential indexes as a plain Module; its last layer is the Conv2d built by branch().
        logits = cast(nn.Conv2d, self.heatmap[-1])
        # Start from a low foreground prior so the focal loss is stable in the first steps.
        nn.init.constant_(conv_bias(logits), -torch.log(torch.tensor((1 - prior) / prior)).item())

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        return {"heatmap": self.heatmap(x), "size": self.size(x), "offset": self.offset(x)}


def decode_centernet(raw: dict[str, Tensor], stride: int, max_det: int, image_hw: tuple[int, int]) -> Tensor:
    """Heatmap peaks → ``[B, max_det, 6]`` boxes in input pixels; only ops ORT and TensorRT both run."""
    heat = torch.sigmoid(raw["heatmap"])
    b, c, h, w = heat.shape
    peaks = F.max_pool2d(heat, 3, stride=1, padding=1)
    heat = heat * (peaks == heat).to(heat.dtype)
    scores, index = torch.topk(heat.reshape(b, c * h * w), max_det, dim=1)
    hw = h * w
    cls = torch.div(index, hw, rounding_mode="floor")
    pixel = index - cls * hw
    ys = torch.div(pixel, w, rounding_mode="floor")
    xs = pixel - ys * w
    gather_index = pixel.unsqueeze(1).expand(b, 2, max_det)
    size = torch.exp(torch.clamp(raw["size"].reshape(b, 2, hw).gather(2, gather_index), max=MAX_LOG_SIZE)) * stride
    offset = raw["offset"].reshape(b, 2, hw).gather(2, gather_index)
    cx = (xs.to(heat.dtype) + offset[:, 0]) * stride
    cy = (ys.to(heat.dtype) + offset[:, 1]) * stride
    half_w, half_h = size[:, 0] / 2, size[:, 1] / 2
    img_h, img_w = image_hw
    boxes = torch.stack(
        [
            torch.clamp(cx - half_w, 0, img_w),
            torch.clamp(cy - half_h, 0, img_h),
            torch.clamp(cx + half_w, 0, img_w),
            torch.clamp(cy + half_h, 0, img_h),
        ],
        dim=-1,
    )
    return torch.cat([boxes, scores.unsqueeze(-1), cls.to(heat.dtype).unsqueeze(-1)], dim=-1)


class MobileNetDetector(nn.Module):
    """Backbone + FPN-lite + CenterNet head; ``forward`` decodes in eval mode, returns raw maps in train."""

    def __init__(
        self, spec: ModelSpec, width_mult: float, depth_mult: float, neck_channels: int, out_stride: int, act: str
    ) -> None:
        super().__init__()
        if out_stride not in (4, 8):
            raise ValueError("out_stride must be 4 or 8")
        self.spec = spec
        self.stride = out_stride
        self.backbone = MobileNetBackbone(width_mult, depth_mult, act)
        self.neck = FPNLite(self.backbone.out_channels, neck_channels, out_level=0 if out_stride == 4 else 1, act=act)
        self.head = CenterHead(neck_channels, spec.num_classes, act)

    def forward_raw(self, images: Tensor) -> dict[str, Tensor]:
        return self.head(self.neck(self.backbone(images)))

    def forward(self, images: Tensor) -> Tensor | dict[str, Tensor]:
        raw = self.forward_raw(images)
        if self.training:
            return raw
        return decode_centernet(raw, self.stride, self.spec.max_det, (images.shape[-2], images.shape[-1]))


def coco_categories() -> tuple[Category, ...]:
    return COCO_CATEGORIES


@register_model("mobilenet-det")
def mobilenet_det(
    categories: Sequence[Category] | None = None,
    imgsz: int = 320,
    width_mult: float = 1.0,
    depth_mult: float = 1.0,
    neck_channels: int = 96,
    out_stride: int = 4,
    max_det: int = 100,
    act: str = "relu6",
) -> MobileNetDetector:
    """MobileNetV2-style CenterNet detector; COCO's 80 classes unless ``categories`` is given."""
    if imgsz % 32:
        raise ValueError(f"imgsz must be a multiple of 32, got {imgsz}")
    cats = tuple(categories) if categories is not None else coco_categories()
    spec = ModelSpec(
        name="mobilenet-det",
        task=Task.DETECT,
        input_size=(imgsz, imgsz),
        categories=cats,
        input_names=("images",),
        output_names=("detections",),
        max_det=max_det,
        model_kwargs={
            "imgsz": imgsz,
            "width_mult": width_mult,
            "depth_mult": depth_mult,
            "neck_channels": neck_channels,
            "out_stride": out_stride,
            "max_det": max_det,
            "act": act,
        },
    )
    return MobileNetDetector(spec, width_mult, depth_mult, neck_channels, out_stride, act)
