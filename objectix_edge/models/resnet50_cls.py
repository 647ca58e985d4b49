"""Whole-image ResNet-50 classifier (task ``classify``): torchvision's ResNet-50 with a plain or MLP head.

Parameter names are torchvision's, so a torchvision state dict loads without renaming. The head is either
``fc`` = Linear(2048, C) or, as the COCO 4-class project has it, ``fc`` = Linear(2048, H) → ReLU →
Dropout(0.5) → Linear(H, C) (keys ``fc.0.*``, ``fc.3.*``). Preprocessing (in the spec): RGB, 0-1,
ImageNet mean/std, stretched to ``imgsz`` × ``imgsz`` by Pillow's antialiased bilinear, as torchvision's
``Resize((imgsz, imgsz))`` does on PIL images.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torchvision.models.resnet import Bottleneck

from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.models.registry import register_model
from objectix_edge.spec import Category, ModelSpec, ResizeKernel, ResizePolicy

RESNET50_LAYERS = (3, 4, 6, 3)
LAYER_NAMES = ("stem", "layer1", "layer2", "layer3", "layer4", "fc")


def parse_head(head: str) -> int:
    """``linear`` → 0 (plain Linear head); ``mlp:256`` → 256 (hidden width of the MLP head)."""
    if head == "linear":
        return 0
    if head.startswith("mlp:") and head[4:].isdigit() and int(head[4:]) > 0:
        return int(head[4:])
    raise InputError(f"--head {head!r}: give linear or mlp:HIDDEN (e.g. mlp:256)")


class ResNetClassifier(nn.Module):
    """torchvision's ResNet-50 topology (same parameter names) with the chosen head; ``base_width`` and
    ``layers`` other than 64 and (3, 4, 6, 3) give small variants of the same code (tests)."""

    def __init__(self, spec: ModelSpec, layers: Sequence[int], hidden: int, dropout: float, base_width: int) -> None:
        super().__init__()
        self.spec = spec
        self.inplanes = base_width
        self.conv1 = nn.Conv2d(3, base_width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(base_width, layers[0], 1)
        self.layer2 = self._make_layer(base_width * 2, layers[1], 2)
        self.layer3 = self._make_layer(base_width * 4, layers[2], 2)
        self.layer4 = self._make_layer(base_width * 8, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        features, classes = base_width * 8 * Bottleneck.expansion, spec.num_classes
        self.fc: nn.Module = (
            nn.Sequential(
                nn.Linear(features, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(hidden, classes)
            )
            if hidden
            else nn.Linear(features, classes)
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
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

    def forward(self, images: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))

    def freeze_until(self, layer: str | None) -> list[str]:
        if layer is None:
            return []
        if layer not in LAYER_NAMES:
            raise ValueError(f"--freeze-until must be one of {', '.join(LAYER_NAMES)}, got {layer!r}")
        frozen = list(LAYER_NAMES[: LAYER_NAMES.index(layer)])
        for name in frozen:
            for module in self._layer_modules(name):
                module.requires_grad_(False)
        self._frozen = frozen
        return frozen

    def _layer_modules(self, name: str) -> list[nn.Module]:
        return [self.conv1, self.bn1] if name == "stem" else [getattr(self, name)]

    def train(self, mode: bool = True) -> ResNetClassifier:
        super().train(mode)
        for name in getattr(self, "_frozen", []):
            for module in self._layer_modules(name):
                module.eval()
        return self


@register_model("resnet50-cls")
def resnet50_cls(
    categories: Sequence[Category] | None = None,
    imgsz: int = 256,
    layers: Sequence[int] = RESNET50_LAYERS,
    hidden: int = 0,
    dropout: float = 0.5,
    base_width: int = 64,
) -> ResNetClassifier:
    """Whole-image classifier; ``hidden`` > 0 gives the Linear → ReLU → Dropout → Linear head."""
    if not categories:
        raise InputError("resnet50-cls needs its categories; pass --categories a,b,c")
    spec = ModelSpec(
        name="resnet50-cls",
        task=Task.CLASSIFY,
        input_size=(imgsz, imgsz),
        categories=tuple(categories),
        input_names=("images",),
        output_names=("logits",),
        resize=ResizePolicy.STRETCH,
        resize_kernel=ResizeKernel.PIL_BILINEAR,
        model_kwargs={
            "imgsz": imgsz,
            "layers": list(layers),
            "hidden": hidden,
            "dropout": dropout,
            "base_width": base_width,
        },
    )
    return ResNetClassifier(spec, layers, hidden, dropout, base_width)
