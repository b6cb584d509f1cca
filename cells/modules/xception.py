"""Modules of Xception's blocks (Chollet 2017); costs, checks and layout notes in ``cells.xception``."""
from __future__ import annotations

import torch
from torch import nn

from cells.modules.layers import activation
from cells.xception import check_block, rep_widths


class SeparableConv(nn.Sequential):
    """Depthwise k x k (strides) then pointwise 1x1, no bias and no BN between (the Keras layer)."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int = 3, stride: int = 1):
        super().__init__()
        self.depthwise = nn.Conv2d(in_chs, in_chs, kernel, stride, kernel // 2, groups=in_chs, bias=False)
        self.pointwise = nn.Conv2d(in_chs, out_chs, 1, bias=False)


class XceptionBlock(nn.Module):
    """branch(x) + shortcut(x), the branch ``reps`` x (ReLU, separable conv, BN) and, at stride 2, a
    3x3 max pool; the shortcut a strided 1x1 conv + BN when the shape changes."""

    def __init__(self, in_chs: int, out_chs: int, stride: int, *, reps: int = 2, start_with_relu: bool = True,
                 grow_first: bool = True):
        super().__init__()
        check_block(reps, start_with_relu, grow_first)
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(rep_widths(in_chs, out_chs, reps, grow_first)):
            if i or start_with_relu:
                # Not in place on the block's input: the shortcut still reads it.
                layers.append(nn.ReLU(inplace=i > 0))
            layers += [SeparableConv(a, b), nn.BatchNorm2d(b)]
        if stride != 1:
            layers.append(nn.MaxPool2d(3, stride, 1))
        self.branch = nn.Sequential(*layers)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_chs != out_chs:
            self.shortcut = nn.Sequential(nn.Conv2d(in_chs, out_chs, 1, stride, bias=False), nn.BatchNorm2d(out_chs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.branch(x) + self.shortcut(x)


def sep_conv_bn_act(in_chs: int, out_chs: int, stride: int, *, kernel: int = 3, act: str = "relu") -> nn.Sequential:
    """Separable conv -> BN -> activation (the exit flow's last two layers)."""
    return nn.Sequential(SeparableConv(in_chs, out_chs, kernel, stride), nn.BatchNorm2d(out_chs), activation(act))
