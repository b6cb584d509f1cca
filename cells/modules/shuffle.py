"""ShuffleNet v1 and v2 units (Zhang et al. 2018; Ma et al. 2018); costs and entries in
``cells.shuffle``. The v2 unit registers its layers in torchvision's order (branch1, then branch2)
so torchvision's weights load by order."""
from __future__ import annotations

import torch
from torch import nn

from cells.modules.layers import ConvBnAct
from cells.shuffle import check_v2, v1_widths, v2_split


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleV2(nn.Module):
    def __init__(self, in_chs: int, out_chs: int, stride: int, *, kernel: int = 3):
        super().__init__()
        check_v2(in_chs, out_chs, kernel)
        half = out_chs // 2
        self.split = v2_split(in_chs, out_chs, stride)
        if not self.split:
            self.branch1 = nn.Sequential(ConvBnAct(in_chs, in_chs, kernel, stride, groups=in_chs, act="none"),
                                         ConvBnAct(in_chs, half, 1))
        self.branch2 = nn.Sequential(ConvBnAct(half if self.split else in_chs, half, 1),
                                     ConvBnAct(half, half, kernel, stride, groups=half, act="none"),
                                     ConvBnAct(half, half, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.split:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleV1(nn.Module):
    def __init__(self, in_chs: int, out_chs: int, stride: int, *, groups: int = 2, first_group: bool = True):
        super().__init__()
        branch, mid, g1 = v1_widths(in_chs, out_chs, stride, groups, first_group)
        self.groups = groups
        self.add = stride == 1 and in_chs == out_chs
        self.reduce = ConvBnAct(in_chs, mid, 1, groups=g1)
        self.dw = ConvBnAct(mid, mid, 3, stride, groups=mid, act="none")
        self.expand = ConvBnAct(mid, branch, 1, groups=groups, act="none")
        self.pool = nn.Identity() if self.add else nn.AvgPool2d(3, stride, 1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.expand(self.dw(channel_shuffle(self.reduce(x), self.groups)))
        return self.act(x + out if self.add else torch.cat((self.pool(x), out), dim=1))
