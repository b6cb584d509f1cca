"""Modules of DenseNet's dense layer and transition (Huang et al. 2017); costs and entries in
``cells.dense``. Registration order follows torchvision's ``_DenseLayer`` / ``_Transition`` so
their weights load by order."""
from __future__ import annotations

import torch
from torch import nn

from cells.dense import growth_of
from cells.checks import check_int


class DenseLayer(nn.Module):
    """concat(x, conv3x3(relu(bn(conv1x1(relu(bn(x))))))); at stride 2 x is 2x2-pooled first."""

    def __init__(self, in_chs: int, out_chs: int, stride: int, *, bn_size: int = 4):
        super().__init__()
        check_int("dense_layer", "bn_size", bn_size)
        growth = growth_of(in_chs, out_chs)
        self.pool = nn.AvgPool2d(2, 2, ceil_mode=True) if stride == 2 else nn.Identity()
        self.norm1 = nn.BatchNorm2d(in_chs)
        self.conv1 = nn.Conv2d(in_chs, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)
        self.act = nn.ReLU(inplace=False)  # not in place: x is concatenated unchanged

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(x)
        new = self.conv2(self.act(self.norm2(self.conv1(self.act(self.norm1(x))))))
        return torch.cat([x, new], dim=1)


def transition(in_chs: int, out_chs: int, stride: int) -> nn.Sequential:
    """BN -> ReLU -> 1x1 conv -> (stride 2) 2x2 average pool."""
    layers = [nn.BatchNorm2d(in_chs), nn.ReLU(inplace=True), nn.Conv2d(in_chs, out_chs, 1, bias=False)]
    if stride == 2:
        layers.append(nn.AvgPool2d(2, 2, ceil_mode=True))
    return nn.Sequential(*layers)
