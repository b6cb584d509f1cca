"""The module of the Inception-ResNet-v2 entries (Szegedy et al. 2017), built from the branch
plans ``cells.inception_resnet`` prices, so module and cost cannot drift apart."""
from __future__ import annotations

import torch
from torch import nn

from cells.inception import plan_width
from cells.inception_resnet import RESIDUAL_PLANS
from cells.modules.inception import build_plan
from cells.modules.layers import ConvBnAct


class InceptionResidual(nn.Module):
    """relu(scale * up(concat(branches(x))) + shortcut(x)); ``up`` is the linear 1x1 (bias, no BN)."""

    def __init__(self, in_chs: int, out_chs: int, stride: int, *, plan: str, scale: float = 1.0,
                 relu: bool = True, **options):
        super().__init__()
        branches = RESIDUAL_PLANS[plan](out_chs, **options)
        self.branches = build_plan(in_chs, branches, stride)
        self.up = nn.Conv2d(plan_width(in_chs, branches), out_chs, 1)
        self.shortcut = (nn.Identity() if stride == 1 and in_chs == out_chs
                         else ConvBnAct(in_chs, out_chs, 1, stride, act="none", bn_eps=1e-3))
        self.scale = scale
        self.act = nn.ReLU(inplace=True) if relu else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.up(self.branches(x)) * self.scale + self.shortcut(x))


def inception_residual(in_chs: int, out_chs: int, stride: int, **options) -> InceptionResidual:
    """The registry factory of every Inception-ResNet entry."""
    return InceptionResidual(in_chs, out_chs, stride, **options)
