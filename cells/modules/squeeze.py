"""SqueezeNet's Fire module (Iandola et al. 2016); cost and entry in ``cells.squeeze``. Attribute
names and order are torchvision's ``Fire``, so its weights load by order or by name."""
from __future__ import annotations

import torch
from torch import nn

from cells.squeeze import fire_widths


class Fire(nn.Module):
    def __init__(self, in_chs: int, out_chs: int, stride: int, *, squeeze: int | None = None,
                 expand1x1: int | None = None):
        super().__init__()
        s, e1, e3 = fire_widths(out_chs, squeeze, expand1x1)
        self.squeeze = nn.Conv2d(in_chs, s, 1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(s, e1, 1, stride)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(s, e3, 3, stride, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)
