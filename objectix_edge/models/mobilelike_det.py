"""The MobileNet-inspired detector (C classes, B boxes per cell, 640 × 640 RGB input in 0-255, no normalization).

Module names match the project's checkpoints (``init_conv``, ``depthwise_layers``, ``depthwise_deep``,
``extras``, ``conf_layers``, ``loc_layers``, ``loc_coor``), so its state dict loads without renaming.
``forward_raw`` returns what the original returns: ``scores[N, 150·B, C]`` (sigmoid) and
``boxes[N, 150·B, 4]`` (``loc_coor``'s NCHW output viewed directly as rows of 4; with ``boxes_scaled``
each row is first multiplied by its ``loc_layers`` row: x, w by the first value, y, h by the second).
``forward`` wraps it in our detector contract: ``detections[N, max_det, 6]`` = top-k rows by score,
class = argmax, boxes converted to x1, y1, x2, y2 (input pixels). No NMS, as the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import torch
from torch import Tensor, nn

from objectix_edge.enums import Task
from objectix_edge.models.registry import register_model
from objectix_edge.spec import Category, ModelSpec, ResizeKernel, ResizePolicy

INPUT_SIZE = 640
ROWS_PER_BOX = 150  # 10·10 + 5·5 + 5·5 cells at 640 input
FEATURE_CHANNELS = (512, 256, 128)


class BoxFormat(str, Enum):
    XYWH = "xywh"
    XYXY = "xyxy"


def dw(cin: int, cout: int, stride: int) -> nn.Sequential:
    """3×3 depthwise conv, BN, ReLU, 1×1 conv, BN, ReLU (state-dict indices 0, 1, 3, 4)."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
        nn.BatchNorm2d(cin),
        nn.ReLU(inplace=True),
        nn.Conv2d(cin, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def _rows(x: Tensor, width: int) -> Tensor:
    """NCHW head output → NHWC flattened to rows of ``width``."""
    return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1, width)


class MobileLikeDet(nn.Module):
    """The detector; eval-mode ``forward`` gives ``detections[N, max_det, 6]``."""

    def __init__(self, spec: ModelSpec, boxes: int, box_format: BoxFormat, boxes_scaled: bool) -> None:
        super().__init__()
        self.spec = spec
        self.num_classes, self.boxes = spec.num_classes, boxes
        self.box_format, self.boxes_scaled = box_format, boxes_scaled
        self.init_conv = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True))
        self.depthwise_layers = nn.Sequential(
            dw(32, 64, 1), dw(64, 128, 2), dw(128, 128, 1), dw(128, 256, 2), dw(256, 256, 1), dw(256, 512, 2)
        )
        self.depthwise_deep = nn.Sequential(*[dw(512, 512, 1) for _ in range(4)], dw(512, 1024, 2))
        self.extras = nn.ModuleList([dw(1024, 512, 2), dw(512, 256, 2), dw(256, 128, 1)])
        self.conf_layers = nn.ModuleList(
            [nn.Conv2d(c, boxes * self.num_classes, 3, padding=1) for c in FEATURE_CHANNELS]
        )
        self.loc_layers = nn.ModuleList([nn.Conv2d(c, 2 * boxes, 3, padding=1) for c in FEATURE_CHANNELS])
        self.loc_coor = nn.Sequential(nn.Conv2d(128, 64, 3, padding=1), nn.Conv2d(64, 24 * boxes, 3, padding=1))

    def forward_raw(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """``(scores[N, R, C], boxes[N, R, 4])`` exactly as the original network returns them."""
        x = self.depthwise_deep(self.depthwise_layers(self.init_conv(images)))
        feats = []
        for extra in self.extras:
            x = extra(x)
            feats.append(x)
        n = images.shape[0]
        scores = torch.sigmoid(
            torch.cat([_rows(h(f), self.num_classes) for h, f in zip(self.conf_layers, feats, strict=True)], 1)
        )
        boxes = self.loc_coor(feats[2]).reshape(n, -1, 4)
        if self.boxes_scaled:
            loc = torch.cat([_rows(h(f), 2) for h, f in zip(self.loc_layers, feats, strict=True)], 1)
            boxes = boxes * torch.cat([loc, loc], dim=2)  # x, y by (l0, l1); w, h by (l0, l1)
        return scores, boxes

    def forward(self, images: Tensor) -> Tensor:
        scores, boxes = self.forward_raw(images)
        best, cls = scores.max(dim=2)
        top, index = torch.topk(best, self.spec.max_det, dim=1)
        picked = torch.gather(boxes, 1, index.unsqueeze(2).expand(-1, -1, 4))
        if self.box_format == BoxFormat.XYWH:
            picked = torch.cat([picked[..., :2], picked[..., :2] + picked[..., 2:]], dim=2)
        label = torch.gather(cls, 1, index).to(picked.dtype)
        return torch.cat([picked, top.unsqueeze(2), label.unsqueeze(2)], dim=2)


@register_model("mobilelike-det")
def mobilelike_det(
    categories: Sequence[Category] | None = None,
    boxes: int = 1,
    box_format: str = BoxFormat.XYWH.value,
    boxes_scaled: bool = False,
    max_det: int = 100,
) -> MobileLikeDet:
    """The MobileNet-inspired detector over ``categories`` (default: one class, ``object``)."""
    cats = tuple(categories) if categories else (Category(0, "object"),)
    spec = ModelSpec(
        name="mobilelike-det",
        task=Task.DETECT,
        input_size=(INPUT_SIZE, INPUT_SIZE),
        categories=cats,
        input_names=("images",),
        output_names=("detections",),
        mean=(0.0, 0.0, 0.0),
        std=(1.0, 1.0, 1.0),
        pixel_scale=255.0,
        resize=ResizePolicy.STRETCH,
        resize_kernel=ResizeKernel.BILINEAR,
        max_det=min(max_det, ROWS_PER_BOX * boxes),
        model_kwargs={"boxes": boxes, "box_format": box_format, "boxes_scaled": boxes_scaled, "max_det": max_det},
    )
    return MobileLikeDet(spec, boxes, BoxFormat(box_format), boxes_scaled)
