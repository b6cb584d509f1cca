"""Module of Wide ResNet's pre-activation basic block (Zagoruyko & Komodakis 2016); cost, checks
and entry in ``cells.preact``."""
from __future__ import annotations

import torch
from torch import nn

from cells.preact import check_preact


class PreActBlock(nn.Module):
    """BN-ReLU -> 3x3 -> BN-ReLU -> dropout -> 3x3, plus the raw input or a 1x1 projection of the
    pre-activated input; nothing after the add, so the identity path stays clean."""

    def __init__(self, in_chs: int, out_chs: int, stride: int, dropout: float = 0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_chs)
        self.conv1 = nn.Conv2d(in_chs, out_chs, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_chs)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_chs, out_chs, 3, 1, 1, bias=False)
        self.act = nn.ReLU()
        project = stride != 1 or in_chs != out_chs
        self.shortcut = nn.Conv2d(in_chs, out_chs, 1, stride, bias=False) if project else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.act(self.bn1(x))
        out = self.conv2(self.dropout(self.act(self.bn2(self.conv1(pre)))))
        return out + (x if self.shortcut is None else self.shortcut(pre))


def preact_block(in_chs: int, out_chs: int, stride: int, *, dropout: float = 0.0) -> nn.Module:
    check_preact(dropout)
    return PreActBlock(in_chs, out_chs, stride, dropout)
