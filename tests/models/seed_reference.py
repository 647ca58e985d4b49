"""Reference forwards of the seeds' three networks, written in the tests from issue 11's "Facts" only.

Each reference module has the attribute names of its project's checkpoints, so its ``state_dict()`` is a
file in that project's own format. Each forward takes the deliberate mistakes the equality tests must
catch (colour order, add vs multiply, ``align_corners``), so every test can show it would fail.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision.models.resnet import Bottleneck, ResNet

OBJECTIX_MEANS = (123.68, 116.779, 103.939)


def spread_weights(module: nn.Module, seed: int) -> nn.Module:
    """Random BatchNorm statistics and a wide classifier, so outputs are far from uniform (tests can tell)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 3.0 / m.weight.shape[1] ** 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.5)
            elif isinstance(m, nn.Conv2d) and m.in_channels == 1:  # the ObjectiX attention conv
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 3.0)
                assert m.bias is not None
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen))
    return module.eval()


class ObjectixRef(nn.Module):
    """ObjectiX: ``Net`` = torchvision ResNet, ``Attentionlayer`` (added) or ``ValeLayers[0]`` (multiplied)."""

    def __init__(self, multiply: bool, layers: tuple[int, ...] = (3, 4, 6, 3), classes: int = 80) -> None:
        super().__init__()
        self.multiply = multiply
        self.Net = ResNet(Bottleneck, list(layers), num_classes=classes)
        conv = nn.Conv2d(1, 64, kernel_size=3, stride=1, padding=1, bias=True)
        if multiply:
            self.ValeLayers = nn.ModuleList([conv])
        else:
            self.Attentionlayer = conv

    def forward(
        self, image_path: Path, mask: np.ndarray, rgb: bool = False, swap_op: bool = False, align_corners: bool = False
    ) -> np.ndarray:
        img = cv2.imread(str(image_path))  # BGR, as ObjectiX reads it
        if rgb:
            img = img[..., ::-1]
        x = torch.from_numpy(np.ascontiguousarray(img)).float().unsqueeze(0).permute(0, 3, 1, 2).contiguous()
        for i, mean in enumerate(OBJECTIX_MEANS):
            x[:, i] = (x[:, i] - mean) / 65
        roi = torch.from_numpy(mask.astype(np.float32))[None, None]
        with torch.no_grad():
            x = self.Net.conv1(x)
            roi = F.interpolate(roi, size=x.shape[2:], mode="bilinear", align_corners=align_corners)
            gate = self.ValeLayers[0](roi) if self.multiply else self.Attentionlayer(roi)
            x = x + gate if self.multiply == swap_op else x * gate
            x = self.Net.maxpool(self.Net.relu(self.Net.bn1(x)))
            x = self.Net.layer4(self.Net.layer3(self.Net.layer2(self.Net.layer1(x))))
            return torch.softmax(self.Net.fc(x.mean(dim=(2, 3))), dim=1)[0].numpy()


class FourClassRef(nn.Module):
    """The 4-class project: torchvision ResNet with fc = Linear → ReLU → Dropout(0.5) → Linear."""

    def __init__(self, layers: tuple[int, ...] = (3, 4, 6, 3), hidden: int = 256, classes: int = 4) -> None:
        super().__init__()
        self.net = ResNet(Bottleneck, list(layers), num_classes=classes)
        self.net.fc = nn.Sequential(nn.Linear(2048, hidden), nn.ReLU(), nn.Dropout(0.5), nn.Linear(hidden, classes))  # type: ignore[assignment]

    def forward(self, image_path: Path, size: int = 256, rgb: bool = True, cv2_resize: bool = False) -> np.ndarray:
        pil = Image.open(image_path).convert("RGB")
        if cv2_resize:
            arr = cv2.resize(np.asarray(pil), (size, size), interpolation=cv2.INTER_LINEAR)
        else:
            arr = np.asarray(pil.resize((size, size), Image.Resampling.BILINEAR))
        if not rgb:
            arr = arr[..., ::-1]
        x = torch.from_numpy(np.ascontiguousarray(arr)).float().div(255).permute(2, 0, 1)
        x = (x - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor([0.229, 0.224, 0.225])[
            :, None, None
        ]
        with torch.no_grad():
            return torch.softmax(self.net(x[None]), dim=1)[0].numpy()


def _dw(i: int, o: int, s: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(i, i, 3, s, 1, groups=i, bias=False),
        nn.BatchNorm2d(i),
        nn.ReLU(),
        nn.Conv2d(i, o, 1, bias=False),
        nn.BatchNorm2d(o),
        nn.ReLU(),
    )


class MobileLikeRef(nn.Module):
    """The MobileNet-inspired detector as its facts describe it; ``scaled``: boxes times loc_layers rows."""

    def __init__(self, classes: int, boxes: int, scaled: bool) -> None:
        super().__init__()
        self.c, self.b, self.scaled = classes, boxes, scaled
        self.init_conv = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.depthwise_layers = nn.Sequential(
            _dw(32, 64, 1), _dw(64, 128, 2), _dw(128, 128, 1), _dw(128, 256, 2), _dw(256, 256, 1), _dw(256, 512, 2)
        )
        self.depthwise_deep = nn.Sequential(*[_dw(512, 512, 1) for _ in range(4)], _dw(512, 1024, 2))
        self.extras = nn.ModuleList([_dw(1024, 512, 2), _dw(512, 256, 2), _dw(256, 128, 1)])
        self.conf_layers = nn.ModuleList([nn.Conv2d(c, boxes * classes, 3, padding=1) for c in (512, 256, 128)])
        self.loc_layers = nn.ModuleList([nn.Conv2d(c, 2 * boxes, 3, padding=1) for c in (512, 256, 128)])
        self.loc_coor = nn.Sequential(nn.Conv2d(128, 64, 3, padding=1), nn.Conv2d(64, 24 * boxes, 3, padding=1))

    def forward(self, image_path: Path, rgb: bool = True) -> tuple[np.ndarray, np.ndarray]:
        img = cv2.imread(str(image_path))
        img = img[..., ::-1] if rgb else img
        x = torch.from_numpy(np.ascontiguousarray(img)).float().permute(2, 0, 1)[None]
        x = F.interpolate(x, size=(640, 640), mode="bilinear", align_corners=False)
        with torch.no_grad():
            x = self.depthwise_deep(self.depthwise_layers(self.init_conv(x)))
            feats = []
            for extra in self.extras:
                x = extra(x)
                feats.append(x)
            conf = [
                h(f).permute(0, 2, 3, 1).reshape(1, -1, self.c) for h, f in zip(self.conf_layers, feats, strict=True)
            ]
            scores = torch.sigmoid(torch.cat(conf, dim=1))[0]
            boxes = self.loc_coor(feats[2]).view(1, -1, 4)[0].clone()
            if self.scaled:
                loc = torch.cat(
                    [h(f).permute(0, 2, 3, 1).reshape(1, -1, 2) for h, f in zip(self.loc_layers, feats, strict=True)], 1
                )[0]
                boxes[:, 0] *= loc[:, 0]
                boxes[:, 2] *= loc[:, 0]
                boxes[:, 1] *= loc[:, 1]
                boxes[:, 3] *= loc[:, 1]
        return scores.numpy(), boxes.numpy()


def fit_batchnorm(ref: nn.Module, *args: object) -> nn.Module:
    """Set every BatchNorm's running statistics from one forward on real input, so the random network stays
    sensitive to its input (random statistics on 0-255 pixels saturate a deep stack into constants)."""
    for m in ref.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the forward
    ref.train()
    ref(*args)
    return ref.eval()
