"""Whole-image ResNet-50 classifier (task ``classify``): torchvision's ResNet-50 with a plain or MLP head.

Parameter names are torchvision's, so a torchvision state dict loads without renaming. The head is either
``fc`` = Linear(2048, C) or, as the COCO 4-class project has it, ``fc`` = Linear(2048, H) → ReLU →
Dropout(0.5) → Linear(H, C) (keys ``fc.0.*``, ``fc.3.*``). Preprocessing (in the spec): RGB, 0-1,
ImageNet mean/std, stretched to ``imgsz`` × ``imgsz`` by Pillow's antialiased bilinear, as torchvision's
``Resize((imgsz, imgsz))`` does on PIL images.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn
from torchvision.models.resnet import Bottleneck, ResNet

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


class ResNetClassifier(ResNet):
    """torchvision ResNet whose ``fc`` is the chosen head; ``freeze_until`` freezes the layers before one."""

    def __init__(self, spec: ModelSpec, layers: Sequence[int], hidden: int, dropout: float) -> None:
        super().__init__(Bottleneck, list(layers), num_classes=spec.num_classes)
        self.spec = spec
        features = 512 * Bottleneck.expansion  # torchvision's ResNet-50 feature width
        if hidden:
            self.fc = nn.Sequential(  # type: ignore[assignment]
                nn.Linear(features, hidden),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(hidden, spec.num_classes),
            )

    def forward(self, images: Tensor) -> Tensor:  # type: ignore[override]
        return super().forward(images)

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
        model_kwargs={"imgsz": imgsz, "layers": list(layers), "hidden": hidden, "dropout": dropout},
    )
    return ResNetClassifier(spec, layers, hidden, dropout)
