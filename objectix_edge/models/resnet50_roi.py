"""ResNet-50 ROI classifier: torchvision's ResNet-50 topology with an ROI-mask gate after the stem.

The ROI enters as ``roi_mask[B, 1, H, W]`` (1 inside the box, 0 outside). It is convolved down to the
stem's resolution and channels, passed through a sigmoid, and multiplies the stem features, so the
network attends to the object while still seeing its context (the ObjectiX design).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torchvision.models.resnet import Bottleneck

from objectix_edge.enums import Task
from objectix_edge.models.layers import conv_bias
from objectix_edge.models.registry import register_model
from objectix_edge.spec import Category, ModelSpec

LAYER_NAMES = ("stem", "layer1", "layer2", "layer3", "layer4", "fc")
RESNET50_LAYERS = (3, 4, 6, 3)


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


class ResNetRoi(nn.Module):
    """ResNet built from torchvision's Bottleneck; parameter names match torchvision's resnet50."""

    def __init__(self, spec: ModelSpec, layers: Sequence[int], base_width: int) -> None:
        super().__init__()
        self.spec = spec
        self.inplanes = base_width
        self.conv1 = nn.Conv2d(3, base_width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.roi_gate = RoiMaskGate(base_width)
        self.layer1 = self._make_layer(base_width, layers[0], 1)
        self.layer2 = self._make_layer(base_width * 2, layers[1], 2)
        self.layer3 = self._make_layer(base_width * 4, layers[2], 2)
        self.layer4 = self._make_layer(base_width * 8, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(base_width * 8 * Bottleneck.expansion, spec.num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m is not self.roi_gate.conv:
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)  # zero-init residual branches: each block starts as identity

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * Bottleneck.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * Bottleneck.expansion),
            )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * Bottleneck.expansion
        layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, images: Tensor, roi_mask: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        x = self.roi_gate(x, roi_mask)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))

    def freeze_until(self, layer: str | None) -> list[str]:
        """Freeze every layer before ``layer`` (one of LAYER_NAMES); returns the frozen layer names.

        The ROI gate is new, so it always trains. Frozen BatchNorms stay in eval mode via ``train()``.
        """
        if layer is None:
            return []
        if layer not in LAYER_NAMES:
            raise ValueError(f"--freeze-until must be one of {', '.join(LAYER_NAMES)}, got {layer!r}")
        frozen = list(LAYER_NAMES[: LAYER_NAMES.index(layer)])
        for name in frozen:
            for module in self._layer_modules(name):
                for p in module.parameters():
                    p.requires_grad_(False)
        self._frozen = frozen
        return frozen

    def _layer_modules(self, name: str) -> list[nn.Module]:
        return [self.conv1, self.bn1] if name == "stem" else [getattr(self, name)]

    def train(self, mode: bool = True) -> ResNetRoi:
        super().train(mode)
        for name in getattr(self, "_frozen", []):
            for module in self._layer_modules(name):
                module.eval()
        return self


@register_model("resnet50-roi")
def resnet50_roi(
    categories: Sequence[Category] | None = None,
    imgsz: int = 224,
    layers: Sequence[int] = RESNET50_LAYERS,
    base_width: int = 64,
    roi_context: float = 0.25,
) -> ResNetRoi:
    """ResNet-50 ROI classifier; smaller ``layers``/``base_width`` give tiny variants for tests."""
    from objectix_edge.data.categories import COCO_CATEGORIES

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
