"""The NASNet operation set (Zoph et al. 2018, "Learning Transferable Architectures") and the
additions of DARTS (Liu et al. 2019): zero, 5x5 dilated conv, and the skip that becomes a
factorized reduce at stride 2.

Conv-type ops follow the DARTS reference's ReLU -> conv -> BN order; separable convs are
applied twice (depthwise + pointwise, BN, ReLU, again), as both papers do. Paddings keep every
op at ``ceil(H / stride)`` output size for odd and even inputs alike.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cells import counting as C
from cells.registry import out_hw, register

NASNET = "Zoph et al. 2018 (NASNet)"
DARTS = "Liu et al. 2019 (DARTS)"


class ReLUConvBN(nn.Sequential):
    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int, dilation: int = 1):
        pad = dilation * (kernel - 1) // 2
        super().__init__(nn.ReLU(), nn.Conv2d(in_chs, out_chs, kernel, stride, pad, dilation, bias=False),
                         nn.BatchNorm2d(out_chs))


def _relu_conv_bn_cost(kernel: int):
    def cost(in_chs, out_chs, stride, h, w):
        return C.conv_bn(in_chs, out_chs, kernel, stride, h, w)[0]
    return cost


for _k in (1, 3):
    register(f"conv_{_k}x{_k}", _relu_conv_bn_cost(_k), NASNET)(
        lambda i, o, s, k=_k: ReLUConvBN(i, o, k, s))


class DilConv(nn.Sequential):
    """ReLU, depthwise dilated conv, pointwise conv, BN (DARTS's ``DilConv``)."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int, dilation: int):
        pad = dilation * (kernel - 1) // 2
        super().__init__(nn.ReLU(),
                         nn.Conv2d(in_chs, in_chs, kernel, stride, pad, dilation, groups=in_chs, bias=False),
                         nn.Conv2d(in_chs, out_chs, 1, bias=False), nn.BatchNorm2d(out_chs))


def _dil_cost(in_chs, out_chs, stride, h, w, kernel, dilation):
    dw, ho, wo = C.conv(in_chs, in_chs, kernel, stride, h, w, groups=in_chs, dilation=dilation)
    pw, _, _ = C.conv_bn(in_chs, out_chs, 1, 1, ho, wo)
    return dw + pw


def _sep_cost(in_chs, out_chs, stride, h, w, kernel):
    first = _dil_cost(in_chs, in_chs, stride, h, w, kernel, 1)
    ho, wo = out_hw(h, w, stride)
    return first + _dil_cost(in_chs, out_chs, 1, ho, wo, kernel, 1)


class SepConv(nn.Sequential):
    """Depthwise-separable conv applied twice; only the first application strides."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int):
        super().__init__(DilConv(in_chs, in_chs, kernel, stride, 1), DilConv(in_chs, out_chs, kernel, 1, 1))


for _k in (3, 5, 7):
    register(f"sep_conv_{_k}x{_k}", lambda i, o, s, h, w, k=_k: _sep_cost(i, o, s, h, w, k), NASNET)(
        lambda i, o, s, k=_k: SepConv(i, o, k, s))
for _k, _paper in ((3, NASNET), (5, DARTS)):
    register(f"dil_conv_{_k}x{_k}", lambda i, o, s, h, w, k=_k: _dil_cost(i, o, s, h, w, k, 2), _paper)(
        lambda i, o, s, k=_k: DilConv(i, o, k, s, 2))


class FactorizedConv(nn.Sequential):
    """1xk then kx1 conv (NASNet's "1x3 then 3x1" / "1x7 then 7x1"), striding in both."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int):
        pad = kernel // 2
        super().__init__(nn.ReLU(),
                         nn.Conv2d(in_chs, out_chs, (1, kernel), (1, stride), (0, pad), bias=False),
                         nn.Conv2d(out_chs, out_chs, (kernel, 1), (stride, 1), (pad, 0), bias=False),
                         nn.BatchNorm2d(out_chs))


def _factorized_cost(in_chs, out_chs, stride, h, w, kernel):
    a, _, wo = C.conv(in_chs, out_chs, (1, kernel), 1, h, w, padding=(0, kernel // 2))
    wo = out_hw(h, w, stride)[1]
    a = C.Cost(a.params, in_chs * out_chs * kernel * h * wo)
    b, _, _ = C.conv_bn(out_chs, out_chs, (kernel, 1), 1, h, wo, padding=(kernel // 2, 0))
    ho = out_hw(h, w, stride)[0]
    return a + C.Cost(b.params, out_chs * out_chs * kernel * ho * wo)


for _k in (3, 7):
    register(f"conv_1x{_k}_{_k}x1", lambda i, o, s, h, w, k=_k: _factorized_cost(i, o, s, h, w, k), NASNET)(
        lambda i, o, s, k=_k: FactorizedConv(i, o, k, s))


def _pool_cost(in_chs, out_chs, stride, h, w):
    return C.ZERO


register("avg_pool_3x3", _pool_cost, NASNET, same_chs=True)(
    lambda i, o, s: nn.AvgPool2d(3, s, 1, count_include_pad=False))
for _k in (3, 5, 7):
    register(f"max_pool_{_k}x{_k}", _pool_cost, NASNET, same_chs=True)(
        lambda i, o, s, k=_k: nn.MaxPool2d(k, s, k // 2))


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


def _reduce_cost(in_chs, out_chs, h, w):
    ho, wo = out_hw(h, w, 2)
    return C.Cost(in_chs * out_chs + 2 * out_chs, in_chs * out_chs * ho * wo)


def _skip_cost(in_chs, out_chs, stride, h, w):
    if stride == 2:
        return _reduce_cost(in_chs, out_chs, h, w)
    return C.ZERO if in_chs == out_chs else C.conv_bn(in_chs, out_chs, 1, 1, h, w)[0]


def skip(in_chs: int, out_chs: int, stride: int) -> nn.Module:
    """Identity where shapes allow; otherwise the cheapest projection that keeps the information."""
    if stride == 2:
        return FactorizedReduce(in_chs, out_chs)
    return nn.Identity() if in_chs == out_chs else ReLUConvBN(in_chs, out_chs, 1, 1)


def _identity_cost(in_chs, out_chs, stride, h, w):
    if stride == 1 and in_chs == out_chs:
        return C.ZERO
    return C.conv_bn(in_chs, out_chs, 1, stride, h, w)[0]


def identity(in_chs: int, out_chs: int, stride: int) -> nn.Module:
    """NASNet's identity: a 1x1 strided projection when the shape must change (as its TF code)."""
    return nn.Identity() if stride == 1 and in_chs == out_chs else ReLUConvBN(in_chs, out_chs, 1, stride)


register("identity", _identity_cost, NASNET)(identity)
register("skip_connect", _skip_cost, DARTS)(skip)


class Zero(nn.Module):
    """DARTS's "none": an output of zeros of the right shape that stays in the autograd graph."""

    def __init__(self, out_chs: int, stride: int):
        super().__init__()
        self.out_chs, self.stride = out_chs, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x[:, :1, :: self.stride, :: self.stride].mul(0.0)
        return y.expand(-1, self.out_chs, -1, -1)


register("none", lambda i, o, s, h, w: C.ZERO, DARTS)(lambda i, o, s: Zero(o, s))
