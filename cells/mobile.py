"""The mobile blocks: plain conv-BN-act, the depthwise-separable conv of MobileNet (Howard et al.
2017) / MnasNet's "SepConv" (Tan et al. 2019), and the inverted residual "MBConv" of MobileNetV2
(Sandler et al. 2018), MnasNet and EfficientNet (Tan & Le 2019): costs and entries (modules in
``cells.modules.mobile``).

MBConv: [1x1 expand -> BN -> act] -> k x k depthwise (strides) -> BN -> act -> [SE] ->
1x1 linear projection -> BN, plus an identity skip (through drop path) when stride is 1,
in == out and ``skip`` is on. The expansion conv is left out at ``expand=1``, where the block is
exactly the depthwise-separable conv, so ``ds_conv`` is that case under its own name. The SE
squeeze width is taken relative to the block's *input* channels and the SE uses the block's
activation, as torchvision's EfficientNet does; the layer order and parameter layout reproduce
torchvision's EfficientNet ``MBConv`` and MnasNet ``_InvertedResidual`` (see tests).
"""
from __future__ import annotations

from cells import counting as C
from cells.checks import check_act, check_bool, check_int, check_kernel, check_ratio
from cells.registry import register
from cells.se import maybe_se_cost

SANDLER = "Sandler et al. 2018 (MobileNetV2); Tan et al. 2019 (MnasNet, EfficientNet)"
HOWARD = "Howard et al. 2017 (MobileNet); Tan et al. 2019 (MnasNet SepConv)"
HE = "He et al. 2016 (ResNet conv-BN-ReLU)"
MODULES = "cells.modules.mobile"


def check_mbconv(op: str, expand, kernel, se_ratio, act, skip, drop_path) -> None:
    check_int(op, "expand", expand)
    check_kernel(op, kernel)
    check_ratio(op, "se_ratio", se_ratio)
    check_act(op, act)
    check_bool(op, "skip", skip)
    check_ratio(op, "drop_path", drop_path, closed=False)


def mbconv_cost(in_chs: int, out_chs: int, stride: int, h: int, w: int, *, expand: int = 1,
                kernel: int = 3, se_ratio: float = 0.0, act: str = "relu", skip: bool = True,
                drop_path: float = 0.0) -> C.Cost:
    check_mbconv("mbconv", expand, kernel, se_ratio, act, skip, drop_path)
    mid = in_chs * expand
    total = C.conv_bn(in_chs, mid, 1, 1, h, w)[0] if expand != 1 else C.ZERO
    dw, ho, wo = C.conv_bn(mid, mid, kernel, stride, h, w, groups=mid)
    project, _, _ = C.conv_bn(mid, out_chs, 1, 1, ho, wo)
    return total + dw + maybe_se_cost(mid, in_chs, se_ratio) + project


def ds_conv_cost(in_chs, out_chs, stride, h, w, *, kernel=3, act="relu", se_ratio=0.0, skip=True, drop_path=0.0):
    return mbconv_cost(in_chs, out_chs, stride, h, w, expand=1, kernel=kernel, act=act,
                       se_ratio=se_ratio, skip=skip, drop_path=drop_path)


def preset_cost(in_chs, out_chs, stride, h, w, *, expand, kernel, se_ratio=0.25, act="silu", skip=True,
                drop_path=0.0):
    """A fixed MBConv variant with EfficientNet's settings (SE 0.25, swish) as defaults."""
    return mbconv_cost(in_chs, out_chs, stride, h, w, expand=expand, kernel=kernel, se_ratio=se_ratio,
                       act=act, skip=skip, drop_path=drop_path)


def check_conv_bn_act(kernel, act) -> None:
    check_kernel("conv_bn_act", kernel)
    check_act("conv_bn_act", act)


def conv_bn_act_cost(in_chs, out_chs, stride, h, w, *, kernel=3, act="relu"):
    check_conv_bn_act(kernel, act)
    return C.conv_bn(in_chs, out_chs, kernel, stride, h, w)[0]


# The cell space's fixed MBConv variants (EfficientNet's setting: SE 0.25 and swish).
PRESETS = {f"mbconv_e{e}_k{k}": (e, k) for e, k in ((1, 3), (3, 3), (3, 5), (6, 3), (6, 5), (6, 7))}

register("mbconv", mbconv_cost, SANDLER, factory=f"{MODULES}:MBConv")
register("ds_conv", ds_conv_cost, HOWARD, factory=f"{MODULES}:ds_conv")
for _name, (_e, _k) in PRESETS.items():
    register(_name, preset_cost, SANDLER, factory=f"{MODULES}:mbconv_preset", fixed={"expand": _e, "kernel": _k})
register("conv_bn_act", conv_bn_act_cost, HE, factory=f"{MODULES}:conv_bn_act")
