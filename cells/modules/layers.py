"""The unit of the papers' blocks: conv -> BN -> activation, and the activation modules.

The unit is the ``Conv2dNormActivation`` of torchvision / ``ConvBnAct`` of timm, the building
brick of ResNet (He et al. 2016), MobileNetV2 (Sandler et al. 2018) and MnasNet (Tan et al. 2019).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable

from torch import nn

from cells.checks import ACTIVATION_NAMES, check_act, pair

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=True),
    "relu6": lambda: nn.ReLU6(inplace=True),
    "silu": lambda: nn.SiLU(inplace=True),
    "swish": lambda: nn.SiLU(inplace=True),
    "hswish": lambda: nn.Hardswish(inplace=True),
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "none": nn.Identity,
}
assert tuple(ACTIVATIONS) == ACTIVATION_NAMES  # the pure checks and the modules name the same set


def activation(act: str) -> nn.Module:
    return ACTIVATIONS[check_act("activation", act)]()


class ConvBnAct(nn.Sequential):
    """Conv (no bias, 'same' padding unless ``padding`` is given, e.g. 0 for the unpadded convs of
    Inception-v3/v4's reductions) -> BatchNorm -> activation (``act='none'`` leaves it out, as in
    the linear projection of an inverted residual)."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int | tuple[int, int] = 1,
                 stride: int | tuple[int, int] = 1, *, groups: int = 1, act: str = "relu",
                 bn_eps: float = 1e-5, padding: int | tuple[int, int] | None = None):
        kh, kw = pair(kernel)
        pad = (kh // 2, kw // 2) if padding is None else padding
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv=nn.Conv2d(in_chs, out_chs, (kh, kw), stride, pad, groups=groups, bias=False),
            bn=nn.BatchNorm2d(out_chs, eps=bn_eps))
        if act != "none":
            layers["act"] = activation(act)
        super().__init__(layers)
