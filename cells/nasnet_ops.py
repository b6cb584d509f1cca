"""The NASNet operation set (Zoph et al. 2018, "Learning Transferable Architectures") and the
additions of DARTS (Liu et al. 2019): zero, 5x5 dilated conv, and the skip that becomes a
factorized reduce at stride 2. Analytic costs and registry entries; the modules are in
``cells.modules.nasnet_ops``.

Conv-type ops follow the DARTS reference's ReLU -> conv -> BN order; separable convs are
applied twice (depthwise + pointwise, BN, ReLU, again), as both papers do. Paddings keep every
op at ``ceil(H / stride)`` output size for odd and even inputs alike.
"""
from __future__ import annotations

from cells import counting as C
from cells.registry import out_hw, register

NASNET = "Zoph et al. 2018 (NASNet)"
DARTS = "Liu et al. 2019 (DARTS)"
MODULES = "cells.modules.nasnet_ops"


def relu_conv_bn_cost(in_chs, out_chs, stride, h, w, *, kernel):
    return C.conv_bn(in_chs, out_chs, kernel, stride, h, w)[0]


def dil_conv_cost(in_chs, out_chs, stride, h, w, *, kernel, dilation=2):
    dw, ho, wo = C.conv(in_chs, in_chs, kernel, stride, h, w, groups=in_chs, dilation=dilation)
    pw, _, _ = C.conv_bn(in_chs, out_chs, 1, 1, ho, wo)
    return dw + pw


def sep_conv_cost(in_chs, out_chs, stride, h, w, *, kernel):
    first = dil_conv_cost(in_chs, in_chs, stride, h, w, kernel=kernel, dilation=1)
    ho, wo = out_hw(h, w, stride)
    return first + dil_conv_cost(in_chs, out_chs, 1, ho, wo, kernel=kernel, dilation=1)


def factorized_conv_cost(in_chs, out_chs, stride, h, w, *, kernel):
    """1xk (strides along W) then kx1 (strides along H)."""
    ho, wo = out_hw(h, w, stride)
    a = C.Cost(in_chs * out_chs * kernel, in_chs * out_chs * kernel * h * wo)
    b = C.Cost(out_chs * out_chs * kernel, out_chs * out_chs * kernel * ho * wo) + C.bn(out_chs)
    return a + b


def pool_cost(in_chs, out_chs, stride, h, w, *, kernel=3):
    return C.ZERO


def reduce_cost(in_chs, out_chs, h, w):
    """Factorized reduce: two stride-2 1x1 convs concatenated, then BN."""
    ho, wo = out_hw(h, w, 2)
    return C.Cost(in_chs * out_chs + 2 * out_chs, in_chs * out_chs * ho * wo)


def skip_cost(in_chs, out_chs, stride, h, w):
    if stride == 2:
        return reduce_cost(in_chs, out_chs, h, w)
    return C.ZERO if in_chs == out_chs else C.conv_bn(in_chs, out_chs, 1, 1, h, w)[0]


def identity_cost(in_chs, out_chs, stride, h, w):
    if stride == 1 and in_chs == out_chs:
        return C.ZERO
    return C.conv_bn(in_chs, out_chs, 1, stride, h, w)[0]


def zero_cost(in_chs, out_chs, stride, h, w):
    return C.ZERO


for _k in (1, 3):
    register(f"conv_{_k}x{_k}", relu_conv_bn_cost, NASNET, factory=f"{MODULES}:relu_conv_bn", fixed={"kernel": _k})
for _k in (3, 5, 7):
    register(f"sep_conv_{_k}x{_k}", sep_conv_cost, NASNET, factory=f"{MODULES}:sep_conv", fixed={"kernel": _k})
for _k, _paper in ((3, NASNET), (5, DARTS)):
    register(f"dil_conv_{_k}x{_k}", dil_conv_cost, _paper, factory=f"{MODULES}:dil_conv", fixed={"kernel": _k})
for _k in (3, 7):
    register(f"conv_1x{_k}_{_k}x1", factorized_conv_cost, NASNET, factory=f"{MODULES}:factorized_conv",
             fixed={"kernel": _k})
register("avg_pool_3x3", pool_cost, NASNET, factory=f"{MODULES}:avg_pool", same_chs=True, fixed={"kernel": 3})
for _k in (3, 5, 7):
    register(f"max_pool_{_k}x{_k}", pool_cost, NASNET, factory=f"{MODULES}:max_pool", same_chs=True,
             fixed={"kernel": _k})
register("identity", identity_cost, NASNET, factory=f"{MODULES}:identity")
register("skip_connect", skip_cost, DARTS, factory=f"{MODULES}:skip")
register("none", zero_cost, DARTS, factory=f"{MODULES}:zero")
