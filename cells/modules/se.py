"""Squeeze-and-Excitation modules (Hu et al. 2018); cost and entry in ``cells.se``."""
from __future__ import annotations

import torch
from torch import nn

from cells.modules.layers import activation
from cells.se import check_se_block, squeeze_chs


class SqueezeExcite(nn.Module):
    def __init__(self, chs: int, squeeze: int, act: str = "relu"):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(chs, squeeze, 1)
        self.act = activation(act)
        self.expand = nn.Conv2d(squeeze, chs, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.expand(self.act(self.reduce(self.pool(x)))))


def maybe_se(chs: int, base_chs: int, ratio: float, act: str) -> SqueezeExcite | None:
    return SqueezeExcite(chs, squeeze_chs(base_chs, ratio), act) if ratio > 0 else None


def se_block(in_chs: int, out_chs: int, stride: int, *, se_ratio: float = 0.25, act: str = "relu") -> nn.Module:
    """The SE gate as a block; at stride 2 a parameter-free 3x3 average pool comes first."""
    check_se_block(se_ratio, act)
    gate = SqueezeExcite(in_chs, squeeze_chs(in_chs, se_ratio), act)
    if stride == 1:
        return gate
    return nn.Sequential(nn.AvgPool2d(3, 2, 1, count_include_pad=False), gate)
