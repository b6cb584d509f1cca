"""Analytic cost arithmetic: parameters and multiply-accumulates (MACs) without building modules.

Convention (pycls's `complexity` functions follow the same idea): MACs count the
multiply-accumulates of convolutions and linear layers only, which is what
``torch.utils.flop_counter.FlopCounterMode`` counts (it reports 2 FLOPs per MAC).
Batch norm, activations, pooling and element-wise adds are not counted; they are
cheap next to the convolutions and no paper's MAC figure includes them.
Every function takes and returns spatial sizes so costs chain through a network.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cost:
    """Parameters and multiply-accumulates of a module for one input image."""

    params: int = 0
    macs: int = 0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.params + other.params, self.macs + other.macs)

    def __mul__(self, times: int) -> "Cost":
        return Cost(self.params * times, self.macs * times)

    __rmul__ = __mul__


ZERO = Cost()


def out_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Spatial output size of a convolution or pooling window (floor mode)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv(in_chs: int, out_chs: int, kernel: int | tuple[int, int], stride: int, h: int, w: int,
         *, groups: int = 1, dilation: int = 1, padding: int | tuple[int, int] | None = None,
         bias: bool = False) -> tuple[Cost, int, int]:
    """Cost of one Conv2d and its output size; padding defaults to 'same' for odd kernels."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    if padding is None:
        padding = (dilation * (kh - 1) // 2, dilation * (kw - 1) // 2)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    ho = out_size(h, kh, stride, ph, dilation)
    wo = out_size(w, kw, stride, pw, dilation)
    weights = out_chs * (in_chs // groups) * kh * kw
    params = weights + (out_chs if bias else 0)
    return Cost(params, weights * ho * wo), ho, wo


def bn(chs: int) -> Cost:
    """Batch norm: a scale and a shift per channel (running stats are buffers, not parameters)."""
    return Cost(2 * chs, 0)


def linear(in_features: int, out_features: int, bias: bool = True) -> Cost:
    return Cost(in_features * out_features + (out_features if bias else 0), in_features * out_features)


def conv_bn(in_chs: int, out_chs: int, kernel: int | tuple[int, int], stride: int, h: int, w: int,
            **conv_kwargs) -> tuple[Cost, int, int]:
    """Conv2d (no bias) followed by BatchNorm2d, the unit almost every block is made of."""
    c, ho, wo = conv(in_chs, out_chs, kernel, stride, h, w, **conv_kwargs)
    return c + bn(out_chs), ho, wo
