"""What the three ResNet-50 models share: torchvision's stem and stages (same parameter names, so
torchvision state dicts load), its initialisation, and ``--freeze-until`` for fine-tuning."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn
from torchvision.models.resnet import Bottleneck

RESNET50_LAYERS = (3, 4, 6, 3)
LAYER_NAMES = ("stem", "layer1", "layer2", "layer3", "layer4", "fc")


class FreezableLayers(nn.Module):
    """``freeze_until(layer)`` freezes every layer before it; frozen BatchNorms stay in eval mode."""

    def _layer_modules(self, name: str) -> list[nn.Module]:
        stem = ["conv1", "bn1"] if name == "stem" else [name]
        return [self.get_submodule(n) for n in stem]

    def freeze_until(self, layer: str | None) -> list[str]:
        """Freeze every layer before ``layer`` (one of LAYER_NAMES); returns the frozen layer names."""
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

    def train(self, mode: bool = True) -> FreezableLayers:
        super().train(mode)
        for name in getattr(self, "_frozen", []):
            for module in self._layer_modules(name):
                module.eval()
        return self


class TorchvisionResNet(FreezableLayers):
    """Builds torchvision's ResNet stem and stages from its Bottleneck under torchvision's attribute names.

    Subclasses call ``_build_stem`` then ``_build_stages`` (anything they add in between keeps its place in
    the state dict), add their head, then ``_init_weights``.
    """

    def _build_stem(self, base_width: int) -> None:
        self.inplanes = base_width
        self.conv1 = nn.Conv2d(3, base_width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)

    def _build_stages(self, layers: Sequence[int], base_width: int) -> int:
        """layer1..layer4 and the average pool; returns the number of features they give the head."""
        self.layer1 = self._make_layer(base_width, layers[0], 1)
        self.layer2 = self._make_layer(base_width * 2, layers[1], 2)
        self.layer3 = self._make_layer(base_width * 4, layers[2], 2)
        self.layer4 = self._make_layer(base_width * 8, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        return base_width * 8 * Bottleneck.expansion

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

    def _init_weights(self, keep: Sequence[nn.Module] = ()) -> None:
        """torchvision's initialisation (Kaiming convs, zero-init residual branches); ``keep`` keeps its own."""
        kept = {id(m) for m in keep}
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and id(m) not in kept:
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)  # each block starts as identity
