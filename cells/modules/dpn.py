"""Module of DPN's dual-path block (Chen et al. 2017); widths, costs and layout notes in ``cells.dpn``."""
from __future__ import annotations

import torch
from torch import nn

from cells.dpn import widths

EPS = 1e-3  # the authors' MXNet BatchNorm default, kept by timm's port


class BnActConv(nn.Sequential):
    """Pre-activation unit: BN -> ReLU -> conv (no bias)."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_chs, eps=EPS)
        self.act = nn.ReLU(inplace=False)  # the input is read again (projection, residual, dense paths)
        self.conv = nn.Conv2d(in_chs, out_chs, kernel, stride, kernel // 2, groups=groups, bias=False)


class DualPathBlock(nn.Module):
    """[residual | dense] in, [residual + new residual | dense | new dense] out."""

    def __init__(self, in_chs: int, out_chs: int, stride: int, *, residual_chs: int | None = None,
                 growth: int | None = None, groups: int = 32, bottleneck: int | None = None, project: bool = False):
        super().__init__()
        d = widths(in_chs, out_chs, stride, residual_chs, growth, groups, bottleneck, project)
        self.residual = d.residual
        self.project = BnActConv(in_chs, d.project_chs, 1, stride) if d.project_chs else None
        self.a = BnActConv(in_chs, d.bottleneck, 1)
        self.b = BnActConv(d.bottleneck, d.bottleneck, 3, stride, groups)
        self.c = BnActConv(d.bottleneck, d.residual + d.growth, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = x if self.project is None else self.project(x)
        new = self.c(self.b(self.a(x)))
        r = self.residual
        return torch.cat([state[:, :r] + new[:, :r], state[:, r:], new[:, r:]], dim=1)
