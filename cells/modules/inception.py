"""Modules of the Inception entries (Szegedy et al. 2015, 2016), built from the same branch plans
(``cells.inception``) the analytic cost reads, so module and cost cannot drift apart."""
from __future__ import annotations

import torch
from torch import nn

from cells.inception import PLANS, Branch, Kernel
from cells.modules.layers import ConvBnAct


def basic_conv(in_chs: int, out_chs: int, kernel: Kernel, stride: int = 1) -> ConvBnAct:
    """torchvision's ``BasicConv2d``: conv (no bias) -> BN (eps 0.001) -> ReLU."""
    return ConvBnAct(in_chs, out_chs, kernel, stride, bn_eps=1e-3)


class Concat(nn.ModuleList):
    """Run every child on the same input and concatenate along channels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m(x) for m in self], dim=1)


def _pool(kind: str, stride: int) -> nn.Module:
    if kind == "max":
        return nn.MaxPool2d(3, stride, 1)
    return nn.AvgPool2d(3, stride, 1)  # count_include_pad as torchvision's Inception-v3


def build_plan(in_chs: int, plan: tuple[Branch, ...], stride: int) -> Concat:
    branches = []
    for b in plan:
        pool_s, chain_s, head_s = b.strides(stride)
        layers: list[nn.Module] = [_pool(b.pool, pool_s)] if b.pool else []
        chs = in_chs
        for (out, k), s in zip(b.convs, chain_s):
            layers.append(basic_conv(chs, out, k, s))
            chs = out
        if b.heads:
            layers.append(Concat(basic_conv(chs, out, k, head_s) for out, k in b.heads))
        branches.append(nn.Sequential(*layers))
    return Concat(branches)


def inception(in_chs: int, out_chs: int, stride: int, *, plan: str, **options) -> Concat:
    """The registry factory of every Inception entry: ``plan`` names the entry's branch plan."""
    return build_plan(in_chs, PLANS[plan](out_chs, **options), stride)
