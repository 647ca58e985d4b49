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

from objectix_edge.enums import Task
from objectix_edge.errors import InputError
from objectix_edge.models.registry import register_model
from objectix_edge.models.resnet_parts import RESNET50_LAYERS, TorchvisionResNet
from objectix_edge.spec import Category, ModelSpec, ResizeKernel, ResizePolicy


def parse_head(head: str) -> int:
    """``linear`` → 0 (plain Linear head); ``mlp:256`` → 256 (hidden width of the MLP head)."""
    if head == "linear":
        return 0
    if head.startswith("mlp:") and head[4:].isdigit() and int(head[4:]) > 0:
        return int(head[4:])
    raise InputError(f"--head {head!r}: give linear or mlp:HIDDEN (e.g. mlp:256)")


class ResNetClassifier(TorchvisionResNet):
    """torchvision's ResNet-50 topology (same parameter names) with the chosen head; ``base_width`` and
    ``layers`` other than 64 and (3, 4, 6, 3) give small variants of the same code (tests)."""

    def __init__(self, spec: ModelSpec, layers: Sequence[int], hidden: int, dropout: float, base_width: int) -> None:
        super().__init__()
        self.spec = spec
        self._build_stem(base_width)
        features, classes = self._build_stages(layers, base_width), spec.num_classes
        self.fc: nn.Module = (
            nn.Sequential(
                nn.Linear(features, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(hidden, classes)
            )
            if hidden
            else nn.Linear(features, classes)
        )
        self._init_weights()

    def forward(self, images: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


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
