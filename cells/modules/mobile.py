"""Modules of the mobile blocks (Howard et al. 2017; Sandler et al. 2018; Tan et al. 2019):
MBConv and its special cases; costs, checks and entries in ``cells.mobile``."""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from cells.mobile import check_conv_bn_act, check_mbconv
from cells.modules.drop_path import DropPath
from cells.modules.layers import ConvBnAct
from cells.modules.se import maybe_se


class MBConv(nn.Module):
    """Inverted residual; ``expand=1`` gives the depthwise-separable conv."""

    def __init__(self, in_chs: int, out_chs: int, stride: int, *, expand: int = 1, kernel: int = 3,
                 se_ratio: float = 0.0, act: str = "relu", skip: bool = True, drop_path: float = 0.0):
        super().__init__()
        check_mbconv("mbconv", expand, kernel, se_ratio, act, skip, drop_path)
        mid = in_chs * expand
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if expand != 1:
            layers["expand"] = ConvBnAct(in_chs, mid, 1, act=act)
        layers["dw"] = ConvBnAct(mid, mid, kernel, stride, groups=mid, act=act)
        se = maybe_se(mid, in_chs, se_ratio, act)
        if se is not None:
            layers["se"] = se
        layers["project"] = ConvBnAct(mid, out_chs, 1, act="none")
        self.body = nn.Sequential(layers)
        self.has_skip = skip and stride == 1 and in_chs == out_chs
        self.drop_path = DropPath(drop_path) if self.has_skip else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return self.drop_path(out) + x if self.has_skip else out


def ds_conv(in_chs: int, out_chs: int, stride: int, *, kernel: int = 3, act: str = "relu",
            se_ratio: float = 0.0, skip: bool = True, drop_path: float = 0.0) -> nn.Module:
    """dw k x k -> BN -> act -> [SE] -> pw 1x1 -> BN, identity skip when shapes allow."""
    return MBConv(in_chs, out_chs, stride, expand=1, kernel=kernel, act=act, se_ratio=se_ratio,
                  skip=skip, drop_path=drop_path)


def mbconv_preset(in_chs: int, out_chs: int, stride: int, *, expand: int, kernel: int, se_ratio: float = 0.25,
                  act: str = "silu", skip: bool = True, drop_path: float = 0.0) -> nn.Module:
    return MBConv(in_chs, out_chs, stride, expand=expand, kernel=kernel, se_ratio=se_ratio, act=act,
                  skip=skip, drop_path=drop_path)


def conv_bn_act(in_chs: int, out_chs: int, stride: int, *, kernel: int = 3, act: str = "relu") -> nn.Module:
    """A regular k x k conv -> BN -> act (MnasNet's plain "Conv" choice)."""
    check_conv_bn_act(kernel, act)
    return ConvBnAct(in_chs, out_chs, kernel, stride, act=act)
