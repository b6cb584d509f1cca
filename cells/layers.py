"""Shared units of the papers' blocks: conv -> BN -> activation, the activation names, and the
option checks every block runs at the boundary (before torch sees a bad value).

The unit is the ``Conv2dNormActivation`` of torchvision / ``ConvBnAct`` of timm, the building
brick of ResNet (He et al. 2016), MobileNetV2 (Sandler et al. 2018) and MnasNet (Tan et al. 2019).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable

from torch import nn

# Names a block's ``act`` option accepts; swish is SiLU (Ramachandran et al. 2017 / EfficientNet).
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=True),
    "relu6": lambda: nn.ReLU6(inplace=True),
    "silu": lambda: nn.SiLU(inplace=True),
    "swish": lambda: nn.SiLU(inplace=True),
    "hswish": lambda: nn.Hardswish(inplace=True),
    "none": nn.Identity,
}


def check_act(op: str, act: str) -> str:
    if act not in ACTIVATIONS:
        raise ValueError(f"{op}: act must be one of {', '.join(ACTIVATIONS)}, got {act!r}")
    return act


def activation(act: str) -> nn.Module:
    return ACTIVATIONS[check_act("activation", act)]()


def check_int(op: str, field: str, value: object, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{op}: {field} must be an int >= {minimum}, got {value!r}")
    return value


def check_kernel(op: str, kernel: object, field: str = "kernel") -> int:
    """Odd kernels only: 'same' padding k // 2 then gives ceil(H / stride) for every H."""
    check_int(op, field, kernel)
    if kernel % 2 == 0:
        raise ValueError(f"{op}: {field} must be odd (3, 5, 7, ...), got {kernel!r}")
    return kernel


def check_ratio(op: str, field: str, value: object, *, upper: float = 1.0, closed: bool = True) -> float:
    """A float in [0, upper] (or [0, upper) when ``closed`` is False)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{op}: {field} must be a number, got {value!r}")
    ok = 0.0 <= value <= upper if closed else 0.0 <= value < upper
    if not ok:
        bound = "]" if closed else ")"
        raise ValueError(f"{op}: {field} must be in [0, {upper}{bound}, got {value!r}")
    return float(value)


def check_bool(op: str, field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{op}: {field} must be True or False, got {value!r}")
    return value


def pair(kernel: int | tuple[int, int]) -> tuple[int, int]:
    return (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)


class ConvBnAct(nn.Sequential):
    """Conv (no bias, 'same' padding) -> BatchNorm -> activation (``act='none'`` leaves it out,
    as in the linear projection of an inverted residual)."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int | tuple[int, int] = 1,
                 stride: int | tuple[int, int] = 1, *, groups: int = 1, act: str = "relu",
                 bn_eps: float = 1e-5):
        kh, kw = pair(kernel)
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv=nn.Conv2d(in_chs, out_chs, (kh, kw), stride, (kh // 2, kw // 2), groups=groups, bias=False),
            bn=nn.BatchNorm2d(out_chs, eps=bn_eps))
        if act != "none":
            layers["act"] = activation(act)
        super().__init__(layers)
