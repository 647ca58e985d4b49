"""Building blocks: conv-BN-act, depthwise-separable and inverted-residual blocks (MobileNetV2 style)."""

from __future__ import annotations

from torch import Tensor, nn


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round channel counts to a multiple of ``divisor`` (hardware-friendly), never below 90%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def conv_bias(conv: nn.Conv2d) -> Tensor:
    """The bias of a conv built with ``bias=True`` (torch types it Optional, for ``bias=False`` convs)."""
    if conv.bias is None:
        raise ValueError(f"{conv} has no bias to initialize; build it with bias=True")
    return conv.bias


def activation(kind: str) -> nn.Module:
    if kind == "relu6":
        return nn.ReLU6(inplace=True)
    if kind == "relu":
        return nn.ReLU(inplace=True)
    raise ValueError(f"unknown activation {kind!r}; use relu or relu6")


class ConvBNAct(nn.Sequential):
    """Conv2d without bias, BatchNorm, optional activation (folds into one conv on export)."""

    def __init__(
        self, cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act: str | None = "relu6"
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act is not None:
            layers.append(activation(act))
        super().__init__(*layers)


class DepthwiseSeparable(nn.Sequential):
    """3x3 depthwise conv then 1x1 pointwise conv, each with BN and activation."""

    def __init__(self, cin: int, cout: int, stride: int = 1, act: str = "relu6") -> None:
        super().__init__(ConvBNAct(cin, cin, 3, stride, groups=cin, act=act), ConvBNAct(cin, cout, 1, act=act))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 linear project; residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int, act: str = "relu6") -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNAct(cin, hidden, 1, act=act))
        layers += [ConvBNAct(hidden, hidden, 3, stride, groups=hidden, act=act), ConvBNAct(hidden, cout, 1, act=None)]
        self.block = nn.Sequential(*layers)
        self.use_residual = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        return x + out if self.use_residual else out
