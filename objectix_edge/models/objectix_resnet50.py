"""The ObjectiX attention ResNet-50: torchvision's ResNet-50 kept whole as ``Net`` plus an ROI-mask conv.

The ROI mask (B×1×H×W, 0/1, at the image's size) is resized bilinearly to conv1's output, passed through
a 3×3 conv (1 → 64) and **added** to conv1's output (keys ``Attentionlayer.*``), or, in the earlier
variant, **multiplies** it (keys ``ValeLayers.0.*``). The input is the image as OpenCV reads it (BGR,
0-255) normalized per channel index by (x - mean[i]) / 65, at the image's own size: the model takes
any height and width. Parameter names match ObjectiX's checkpoints, so they load without renaming.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.resnet import Bottleneck, ResNet

from objectix_edge.categories import COCO_CATEGORIES
from objectix_edge.enums import Task
from objectix_edge.models.registry import register_model
from objectix_edge.models.resnet_parts import RESNET50_LAYERS, FreezableLayers
from objectix_edge.spec import Category, ChannelOrder, ModelSpec, ResizeKernel, ResizePolicy, RoiMode

OBJECTIX_MEAN = (123.68, 116.779, 103.939)  # applied to channel indices 0, 1, 2 of a BGR image, as ObjectiX does
OBJECTIX_STD = (65.0, 65.0, 65.0)


class AttentionVariant(str, Enum):
    """How the mask features meet conv1's output: added (``Attentionlayer``) or multiplied (``ValeLayers``)."""

    ADD = "add"
    MULTIPLY = "multiply"


class ObjectixResNet50(FreezableLayers):
    """ObjectiX's network; ``layers`` other than (3, 4, 6, 3) give shallower variants of the same code (tests)."""

    def __init__(self, spec: ModelSpec, variant: AttentionVariant, layers: Sequence[int]) -> None:
        super().__init__()
        self.spec = spec
        self.variant = variant
        self.Net = ResNet(Bottleneck, list(layers), num_classes=spec.num_classes)
        if variant == AttentionVariant.ADD:
            self.Attentionlayer = nn.Conv2d(1, 64, kernel_size=3, stride=1, padding=1)
        else:
            self.ValeLayers = nn.ModuleList([nn.Conv2d(1, 64, kernel_size=3, stride=1, padding=1)])

    @property
    def attention(self) -> nn.Module:
        return self.Attentionlayer if self.variant == AttentionVariant.ADD else self.ValeLayers[0]

    def forward(self, images: Tensor, roi_mask: Tensor) -> Tensor:
        net = self.Net
        x = net.conv1(images)
        mask = F.interpolate(roi_mask, size=x.shape[-2:], mode="bilinear", align_corners=False)
        gate = self.attention(mask)
        x = x + gate if self.variant == AttentionVariant.ADD else x * gate
        x = net.maxpool(net.relu(net.bn1(x)))
        x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
        return net.fc(torch.mean(x, dim=(2, 3)))

    def _layer_modules(self, name: str) -> list[nn.Module]:
        # torchvision's ResNet is kept whole under ``Net``; the attention conv always trains.
        return [self.Net.conv1, self.Net.bn1] if name == "stem" else [getattr(self.Net, name)]


def objectix_spec(
    categories: Sequence[Category], variant: str, layers: Sequence[int], max_side: int, imgsz: int
) -> ModelSpec:
    """The spec of an ObjectiX model: BGR, 0-255, (x - mean) / 65, own size (long side capped), full image + mask."""
    return ModelSpec(
        name="objectix-resnet50",
        task=Task.ROI_CLASSIFY,
        input_size=(imgsz, imgsz),
        categories=tuple(categories),
        input_names=("images", "roi_mask"),
        output_names=("logits",),
        mean=OBJECTIX_MEAN,
        std=OBJECTIX_STD,
        channel_order=ChannelOrder.BGR,
        pixel_scale=255.0,
        resize=ResizePolicy.KEEP,
        resize_kernel=ResizeKernel.AREA,
        max_side=max_side,
        roi_mode=RoiMode.FULL_IMAGE,
        model_kwargs={"variant": variant, "layers": list(layers), "max_side": max_side, "imgsz": imgsz},
    )


@register_model("objectix-resnet50")
def objectix_resnet50(
    categories: Sequence[Category] | None = None,
    variant: str = AttentionVariant.ADD.value,
    layers: Sequence[int] = RESNET50_LAYERS,
    max_side: int = 640,
    imgsz: int = 640,
) -> ObjectixResNet50:
    """ObjectiX attention ResNet-50 over ``categories`` (default: the 80 COCO classes in id order).

    ``imgsz`` is only the nominal size used to trace the export and to bench; the model takes any size.
    """

    cats = tuple(categories) if categories is not None else COCO_CATEGORIES
    spec = objectix_spec(cats, AttentionVariant(variant).value, layers, max_side, imgsz)
    return ObjectixResNet50(spec, AttentionVariant(variant), layers)
