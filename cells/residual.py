"""Residual blocks: the basic and bottleneck blocks of ResNet (He et al. 2016, "Deep Residual
Learning") and the grouped bottleneck of ResNeXt (Xie et al. 2017, "Aggregated Residual
Transformations"), with Squeeze-and-Excitation (Hu et al. 2018, SE-ResNet) and drop path as options.

Layout as torchvision's ResNet v1.5: the stride sits on the 3x3 conv, the shortcut is the
identity when the shape is kept and a 1x1 strided conv + BN ("downsample") otherwise, the ReLU
comes after the add. ``out_chs`` is always the block's output; the bottleneck's inner width follows
torchvision's rule with planes = out_chs / 4 (expansion 4): ``int(out_chs * base_width / 256) *
groups`` (at least one channel per group), unless ``width`` is given. SE (as in SE-ResNet) gates the
residual branch before the add, its squeeze width relative to the gated (output) channels, ReLU.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from cells import counting as C
from cells.drop_path import DropPath
from cells.layers import ConvBnAct, check_int, check_ratio
from cells.registry import register
from cells.se import maybe_se, maybe_se_cost

HE = "He et al. 2016 (ResNet)"
XIE = "Xie et al. 2017 (ResNeXt)"


def _needs_projection(in_chs: int, out_chs: int, stride: int) -> bool:
    return stride != 1 or in_chs != out_chs


class ResidualBlock(nn.Module):
    """relu(drop_path(se(branch(x))) + shortcut(x)); the branch is given as named conv units."""

    def __init__(self, units: OrderedDict[str, nn.Module], in_chs: int, out_chs: int, stride: int,
                 se_ratio: float, drop_path: float):
        super().__init__()
        self.branch = nn.Sequential(units)
        self.se = maybe_se(out_chs, out_chs, se_ratio, "relu") or nn.Identity()
        self.shortcut = (ConvBnAct(in_chs, out_chs, 1, stride, act="none")
                         if _needs_projection(in_chs, out_chs, stride) else nn.Identity())
        self.drop_path = DropPath(drop_path)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.drop_path(self.se(self.branch(x))) + self.shortcut(x))


def _common_cost(in_chs, out_chs, stride, h, w, se_ratio) -> C.Cost:
    """The SE and the projection shortcut, shared by every residual block."""
    total = maybe_se_cost(out_chs, out_chs, se_ratio)
    if _needs_projection(in_chs, out_chs, stride):
        total = total + C.conv_bn(in_chs, out_chs, 1, stride, h, w)[0]
    return total


def _check_common(op: str, se_ratio, drop_path) -> None:
    check_ratio(op, "se_ratio", se_ratio)
    check_ratio(op, "drop_path", drop_path, closed=False)


def _basic_cost(in_chs, out_chs, stride, h, w, *, se_ratio=0.0, drop_path=0.0) -> C.Cost:
    _check_common("basic_block", se_ratio, drop_path)
    a, ho, wo = C.conv_bn(in_chs, out_chs, 3, stride, h, w)
    b, _, _ = C.conv_bn(out_chs, out_chs, 3, 1, ho, wo)
    return a + b + _common_cost(in_chs, out_chs, stride, h, w, se_ratio)


@register("basic_block", _basic_cost, HE)
def basic_block(in_chs: int, out_chs: int, stride: int, *, se_ratio: float = 0.0,
                drop_path: float = 0.0) -> nn.Module:
    """3x3 (strides) -> BN -> ReLU -> 3x3 -> BN, plus the shortcut, ReLU."""
    _check_common("basic_block", se_ratio, drop_path)
    units = OrderedDict(a=ConvBnAct(in_chs, out_chs, 3, stride), b=ConvBnAct(out_chs, out_chs, 3, act="none"))
    return ResidualBlock(units, in_chs, out_chs, stride, se_ratio, drop_path)


def bottleneck_width(op: str, out_chs: int, groups: int, base_width: int, width: int | None) -> int:
    """The 3x3's width: given, or torchvision's ``int(planes * base_width / 64) * groups``."""
    check_int(op, "groups", groups)
    check_int(op, "base_width", base_width)
    if width is None:
        return max(1, out_chs * base_width // 256) * groups
    check_int(op, "width", width)
    if width % groups:
        raise ValueError(f"{op}: width {width} must be a multiple of groups {groups}")
    return width


def _bottleneck_cost(op: str, in_chs, out_chs, stride, h, w, *, width=None, groups=1, base_width=64,
                     se_ratio=0.0, drop_path=0.0) -> C.Cost:
    _check_common(op, se_ratio, drop_path)
    mid = bottleneck_width(op, out_chs, groups, base_width, width)
    a, _, _ = C.conv_bn(in_chs, mid, 1, 1, h, w)
    b, ho, wo = C.conv_bn(mid, mid, 3, stride, h, w, groups=groups)
    c, _, _ = C.conv_bn(mid, out_chs, 1, 1, ho, wo)
    return a + b + c + _common_cost(in_chs, out_chs, stride, h, w, se_ratio)


def _bottleneck(op: str, in_chs: int, out_chs: int, stride: int, width: int | None, groups: int,
                base_width: int, se_ratio: float, drop_path: float) -> nn.Module:
    _check_common(op, se_ratio, drop_path)
    mid = bottleneck_width(op, out_chs, groups, base_width, width)
    units = OrderedDict(a=ConvBnAct(in_chs, mid, 1), b=ConvBnAct(mid, mid, 3, stride, groups=groups),
                        c=ConvBnAct(mid, out_chs, 1, act="none"))
    return ResidualBlock(units, in_chs, out_chs, stride, se_ratio, drop_path)


@register("bottleneck", lambda *a, **o: _bottleneck_cost("bottleneck", *a, **o), HE)
def bottleneck(in_chs: int, out_chs: int, stride: int, *, width: int | None = None, groups: int = 1,
               base_width: int = 64, se_ratio: float = 0.0, drop_path: float = 0.0) -> nn.Module:
    """1x1 reduce -> 3x3 (strides, optionally grouped) -> 1x1 expand, each with BN, ReLU between."""
    return _bottleneck("bottleneck", in_chs, out_chs, stride, width, groups, base_width, se_ratio, drop_path)


@register("resnext_block", lambda *a, **o: _bottleneck_cost("resnext_block", *a, **{
    "groups": 32, "base_width": 4, **o}), XIE)
def resnext_block(in_chs: int, out_chs: int, stride: int, *, width: int | None = None, groups: int = 32,
                  base_width: int = 4, se_ratio: float = 0.0, drop_path: float = 0.0) -> nn.Module:
    """The bottleneck with a grouped 3x3: cardinality 32, 4 channels per group at out_chs 256."""
    return _bottleneck("resnext_block", in_chs, out_chs, stride, width, groups, base_width, se_ratio, drop_path)
