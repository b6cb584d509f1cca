"""Modules of the Inception entries (Szegedy et al. 2015, 2016), built from the same branch plans
(``cells.inception``) the analytic cost reads, so module and cost cannot drift apart."""
from __future__ import annotations

import torch
from torch import nn

from cells.inception import PLANS, Branch, Kernel
from cells.modules.layers import ConvBnAct


def basic_conv(in_chs: int, out_chs: int, kernel: Kernel, stride: int = 1,
               padding: tuple[int, int] | None = None) -> ConvBnAct:
    """torchvision's ``BasicConv2d``: conv (no bias) -> BN (eps 0.001) -> ReLU."""
    return ConvBnAct(in_chs, out_chs, kernel, stride, bn_eps=1e-3, padding=padding)


class Concat(nn.ModuleList):
    """Run every child on the same input and concatenate along channels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m(x) for m in self], dim=1)


def _pool(b: Branch, stride: int, padding: int) -> nn.Module:
    if b.pool == "max":
        return nn.MaxPool2d(3, stride, padding)
    return nn.AvgPool2d(3, stride, padding, count_include_pad=b.count_pad)


def build_plan(in_chs: int, plan: tuple[Branch, ...], stride: int, valid: bool = False) -> Concat:
    branches = []
    for b in plan:
        pool_s, chain_s, head_s = b.strides(stride)
        pool_pad, pads = b.paddings(valid)
        layers: list[nn.Module] = [_pool(b, pool_s, pool_pad)] if b.pool else []
        chs = in_chs
        for (out, k), s, pad in zip(b.convs, chain_s, pads):
            layers.append(basic_conv(chs, out, k, s, pad))
            chs = out
        if b.heads:
            layers.append(Concat(basic_conv(chs, out, k, head_s) for out, k in b.heads))
        branches.append(nn.Sequential(*layers))
    return Concat(branches)


def inception(in_chs: int, out_chs: int, stride: int, *, plan: str, valid: bool = False, **options) -> Concat:
    """The registry factory of every Inception entry: ``plan`` names the entry's branch plan."""
    return build_plan(in_chs, PLANS[plan](in_chs, out_chs, **options), stride, valid)
