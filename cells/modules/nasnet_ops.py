"""Modules of the NASNet operation set (Zoph et al. 2018) and DARTS's additions (Liu et al.
2019); their costs and registry entries are in ``cells.nasnet_ops``. Every factory has the
registry signature ``(in_chs, out_chs, stride, **options)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ReLUConvBN(nn.Sequential):
    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int, dilation: int = 1):
        pad = dilation * (kernel - 1) // 2
        super().__init__(nn.ReLU(), nn.Conv2d(in_chs, out_chs, kernel, stride, pad, dilation, bias=False),
                         nn.BatchNorm2d(out_chs))


class DilConv(nn.Sequential):
    """ReLU, depthwise dilated conv, pointwise conv, BN (DARTS's ``DilConv``)."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int, dilation: int):
        pad = dilation * (kernel - 1) // 2
        super().__init__(nn.ReLU(),
                         nn.Conv2d(in_chs, in_chs, kernel, stride, pad, dilation, groups=in_chs, bias=False),
                         nn.Conv2d(in_chs, out_chs, 1, bias=False), nn.BatchNorm2d(out_chs))


class SepConv(nn.Sequential):
    """Depthwise-separable conv applied twice; only the first application strides."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int):
        super().__init__(DilConv(in_chs, in_chs, kernel, stride, 1), DilConv(in_chs, out_chs, kernel, 1, 1))


class FactorizedConv(nn.Sequential):
    """1xk then kx1 conv (NASNet's "1x3 then 3x1" / "1x7 then 7x1"), striding in both."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int):
        pad = kernel // 2
        super().__init__(nn.ReLU(),
                         nn.Conv2d(in_chs, out_chs, (1, kernel), (1, stride), (0, pad), bias=False),
                         nn.Conv2d(out_chs, out_chs, (kernel, 1), (stride, 1), (pad, 0), bias=False),
                         nn.BatchNorm2d(out_chs))


class FactorizedReduce(nn.Module):
    """Halve resolution without losing half the pixels: two stride-2 1x1 convs, one on the input
    shifted by one pixel, concatenated (NASNet's factorized reduction; DARTS's ``FactorizedReduce``).
    The input is padded before the shift so odd sizes give ceil(H/2) on both paths."""

    def __init__(self, in_chs: int, out_chs: int):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(in_chs, out_chs // 2, 1, 2, bias=False)
        self.conv_2 = nn.Conv2d(in_chs, out_chs - out_chs // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(out_chs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


class Zero(nn.Module):
    """DARTS's "none": an output of zeros of the right shape that stays in the autograd graph."""

    def __init__(self, out_chs: int, stride: int):
        super().__init__()
        self.out_chs, self.stride = out_chs, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x[:, :1, :: self.stride, :: self.stride].mul(0.0)
        return y.expand(-1, self.out_chs, -1, -1)


def relu_conv_bn(in_chs: int, out_chs: int, stride: int, *, kernel: int) -> nn.Module:
    return ReLUConvBN(in_chs, out_chs, kernel, stride)


def sep_conv(in_chs: int, out_chs: int, stride: int, *, kernel: int) -> nn.Module:
    return SepConv(in_chs, out_chs, kernel, stride)


def dil_conv(in_chs: int, out_chs: int, stride: int, *, kernel: int, dilation: int = 2) -> nn.Module:
    return DilConv(in_chs, out_chs, kernel, stride, dilation)


def factorized_conv(in_chs: int, out_chs: int, stride: int, *, kernel: int) -> nn.Module:
    return FactorizedConv(in_chs, out_chs, kernel, stride)


def avg_pool(in_chs: int, out_chs: int, stride: int, *, kernel: int = 3) -> nn.Module:
    return nn.AvgPool2d(kernel, stride, kernel // 2, count_include_pad=False)


def max_pool(in_chs: int, out_chs: int, stride: int, *, kernel: int = 3) -> nn.Module:
    return nn.MaxPool2d(kernel, stride, kernel // 2)


def skip(in_chs: int, out_chs: int, stride: int) -> nn.Module:
    """Identity where shapes allow; otherwise the cheapest projection that keeps the information."""
    if stride == 2:
        return FactorizedReduce(in_chs, out_chs)
    return nn.Identity() if in_chs == out_chs else ReLUConvBN(in_chs, out_chs, 1, 1)


def identity(in_chs: int, out_chs: int, stride: int) -> nn.Module:
    """NASNet's identity: a 1x1 strided projection when the shape must change (as its TF code)."""
    return nn.Identity() if stride == 1 and in_chs == out_chs else ReLUConvBN(in_chs, out_chs, 1, stride)


def zero(in_chs: int, out_chs: int, stride: int) -> nn.Module:
    return Zero(out_chs, stride)
