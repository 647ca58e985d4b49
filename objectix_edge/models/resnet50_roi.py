"""ResNet-50 ROI classifier: torchvision's ResNet-50 topology with an ROI-mask gate after the stem.

The ROI enters as ``roi_mask[B, 1, H, W]`` (1 inside the box, 0 outside). It is convolved down to the
stem's resolution and channels, passed through a sigmoid, and multiplies the stem features, so the
network attends to the object while still seeing its context (the ObjectiX design).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from objectix_edge.categories import COCO_CATEGORIES
from objectix_edge.enums import Task
from objectix_edge.models.layers import conv_bias
from objectix_edge.models.registry import register_model
from objectix_edge.models.resnet_parts import RESNET50_LAYERS, TorchvisionResNet
from objectix_edge.spec import Category, ModelSpec


class RoiMaskGate(nn.Module):
    """mask → conv (stride 4, the stem's total stride) → sigmoid → multiplies the stem features."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, channels, kernel_size=7, stride=4, padding=3)
        nn.init.normal_(self.conv.weight, std=0.01)
        # Bias 2 → gate ≈ 0.88 everywhere at start, so pretrained features pass nearly unchanged.
        nn.init.constant_(conv_bias(self.conv), 2.0)

    def forward(self, features: Tensor, mask: Tensor) -> Tensor:
        return features * torch.sigmoid(self.conv(mask))


class ResNetRoi(TorchvisionResNet):
    """ResNet built from torchvision's Bottleneck; parameter names match torchvision's resnet50.

    The ROI gate is new, so ``freeze_until`` never freezes it.
    """

    def __init__(self, spec: ModelSpec, layers: Sequence[int], base_width: int) -> None:
        super().__init__()
        self.spec = spec
        self._build_stem(base_width)
        self.roi_gate = RoiMaskGate(base_width)
        features = self._build_stages(layers, base_width)
        self.fc = nn.Linear(features, spec.num_classes)
        self._init_weights(keep=[self.roi_gate.conv])

    def forward(self, images: Tensor, roi_mask: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        x = self.roi_gate(x, roi_mask)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@register_model("resnet50-roi")
def resnet50_roi(
    categories: Sequence[Category] | None = None,
    imgsz: int = 224,
    layers: Sequence[int] = RESNET50_LAYERS,
    base_width: int = 64,
    roi_context: float = 0.25,
) -> ResNetRoi:
    """ResNet-50 ROI classifier; smaller ``layers``/``base_width`` give tiny variants for tests."""

    cats = tuple(categories) if categories is not None else COCO_CATEGORIES
    spec = ModelSpec(
        name="resnet50-roi",
        task=Task.ROI_CLASSIFY,
        input_size=(imgsz, imgsz),
        categories=cats,
        input_names=("images", "roi_mask"),
        output_names=("logits",),
        roi_context=roi_context,
        model_kwargs={"imgsz": imgsz, "layers": list(layers), "base_width": base_width, "roi_context": roi_context},
    )
    return ResNetRoi(spec, layers, base_width)
