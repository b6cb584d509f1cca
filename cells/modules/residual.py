"""Modules of the residual blocks (He et al. 2016; Xie et al. 2017; SE as Hu et al. 2018);
costs, checks and entries in ``cells.residual``."""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from cells.modules.drop_path import DropPath
from cells.modules.layers import ConvBnAct
from cells.modules.se import maybe_se
from cells.residual import bottleneck_width, check_common, check_shortcut, needs_projection


class PadShortcut(nn.Module):
    """Option A: subsample at stride 2, zero-pad the new channels (no parameters)."""

    def __init__(self, in_chs: int, out_chs: int, stride: int):
        super().__init__()
        self.stride, self.extra = stride, out_chs - in_chs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, ::self.stride, ::self.stride]
        return nn.functional.pad(x, (0, 0, 0, 0, 0, self.extra)) if self.extra else x


class ResidualBlock(nn.Module):
    """relu(drop_path(se(branch(x))) + shortcut(x)); the branch is given as named conv units."""

    def __init__(self, units: OrderedDict[str, nn.Module], in_chs: int, out_chs: int, stride: int,
                 se_ratio: float, drop_path: float, shortcut: str = "conv"):
        super().__init__()
        self.branch = nn.Sequential(units)
        self.se = maybe_se(out_chs, out_chs, se_ratio, "relu") or nn.Identity()
        if not needs_projection(in_chs, out_chs, stride):
            self.shortcut = nn.Identity()
        elif shortcut == "pad":
            self.shortcut = PadShortcut(in_chs, out_chs, stride)
        else:
            self.shortcut = ConvBnAct(in_chs, out_chs, 1, stride, act="none")
        self.drop_path = DropPath(drop_path)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.drop_path(self.se(self.branch(x))) + self.shortcut(x))


def basic_block(in_chs: int, out_chs: int, stride: int, *, se_ratio: float = 0.0,
                drop_path: float = 0.0, shortcut: str = "conv") -> nn.Module:
    """3x3 (strides) -> BN -> ReLU -> 3x3 -> BN, plus the shortcut (projection, or option A), ReLU."""
    check_common("basic_block", se_ratio, drop_path)
    check_shortcut(in_chs, out_chs, shortcut)
    units = OrderedDict(a=ConvBnAct(in_chs, out_chs, 3, stride), b=ConvBnAct(out_chs, out_chs, 3, act="none"))
    return ResidualBlock(units, in_chs, out_chs, stride, se_ratio, drop_path, shortcut)


def _bottleneck(op: str, in_chs: int, out_chs: int, stride: int, width: int | None, groups: int,
                base_width: int, se_ratio: float, drop_path: float) -> nn.Module:
    check_common(op, se_ratio, drop_path)
    mid = bottleneck_width(op, out_chs, groups, base_width, width)
    units = OrderedDict(a=ConvBnAct(in_chs, mid, 1), b=ConvBnAct(mid, mid, 3, stride, groups=groups),
                        c=ConvBnAct(mid, out_chs, 1, act="none"))
    return ResidualBlock(units, in_chs, out_chs, stride, se_ratio, drop_path)


def bottleneck(in_chs: int, out_chs: int, stride: int, *, width: int | None = None, groups: int = 1,
               base_width: int = 64, se_ratio: float = 0.0, drop_path: float = 0.0) -> nn.Module:
    """1x1 reduce -> 3x3 (strides, optionally grouped) -> 1x1 expand, each with BN, ReLU between."""
    return _bottleneck("bottleneck", in_chs, out_chs, stride, width, groups, base_width, se_ratio, drop_path)


def resnext_block(in_chs: int, out_chs: int, stride: int, *, width: int | None = None, groups: int = 32,
                  base_width: int = 4, se_ratio: float = 0.0, drop_path: float = 0.0) -> nn.Module:
    """The bottleneck with a grouped 3x3: cardinality 32, 4 channels per group at out_chs 256."""
    return _bottleneck("resnext_block", in_chs, out_chs, stride, width, groups, base_width, se_ratio, drop_path)
