"""The MobileNetV3 block (Howard et al. 2019); cost and entry in ``cells.mobile_v3``. Layers are
registered in torchvision's order so its weights load by order."""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from cells.mobile_v3 import v3_widths
from cells.modules.layers import ConvBnAct

EPS = 1e-3


class HardSqueezeExcite(nn.Module):
    """SE with a hard-sigmoid gate (the paper's Figure 4); ``fc1``/``fc2`` as torchvision's."""

    def __init__(self, chs: int, squeeze: int):
        super().__init__()
        self.fc1 = nn.Conv2d(chs, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, chs, 1)
        self.act = nn.ReLU(inplace=True)
        self.gate = nn.Hardsigmoid(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.nn.functional.adaptive_avg_pool2d(x, 1)
        return x * self.gate(self.fc2(self.act(self.fc1(s))))


class MBConvV3(nn.Module):
    def __init__(self, in_chs: int, out_chs: int, stride: int, *, expand: float = 4.0, mid: int | None = None,
                 kernel: int = 3, se: bool = False, act: str = "relu"):
        super().__init__()
        mid, squeeze = v3_widths(in_chs, expand, mid, kernel, se, act)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if mid != in_chs:
            layers["expand"] = ConvBnAct(in_chs, mid, 1, act=act, bn_eps=EPS)
        layers["dw"] = ConvBnAct(mid, mid, kernel, stride, groups=mid, act=act, bn_eps=EPS)
        if squeeze:
            layers["se"] = HardSqueezeExcite(mid, squeeze)
        layers["project"] = ConvBnAct(mid, out_chs, 1, act="none", bn_eps=EPS)
        self.body = nn.Sequential(layers)
        self.has_skip = stride == 1 and in_chs == out_chs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return out + x if self.has_skip else out
