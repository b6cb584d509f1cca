"""Xception's blocks (Chollet 2017, "Xception: Deep Learning with Depthwise Separable
Convolutions", Fig. 5): costs, checks and entries (modules in ``cells.modules.xception``).

The layout follows the Keras weights' PyTorch port (Cadene's pretrained-models, timm's
``xception``), which the paper's 22.8M parameters describe. A separable conv there is a 3x3
depthwise conv followed directly by a 1x1 pointwise conv, both without bias and with nothing in
between (unlike MobileNet's ``ds_conv``, which puts BN and ReLU after the depthwise step).

``xception_block``: ``reps`` x (ReLU -> separable conv -> BN), the first ReLU left out when
``start_with_relu`` is off (the first entry-flow block, which follows the stem's ReLU); at stride 2
a 3x3 max pool (padding 1) ends the branch. The shortcut is the identity when the shape is kept,
else a strided 1x1 conv + BN; the sum is not activated (the next block opens with its ReLU).
``grow_first`` widens in the first separable conv (entry and middle flow); off, the block keeps its
input width until the last one (the exit flow's 728 -> 728 -> 1024).

``xception_sep_conv``: separable conv -> BN -> activation, the exit flow's 1536 and 2048 layers.
"""
from __future__ import annotations

from cells import counting as C
from cells.checks import check_act, check_bool, check_int, check_kernel
from cells.registry import register

CHOLLET = "Chollet 2017 (Xception)"
MODULES = "cells.modules.xception"


def rep_widths(in_chs: int, out_chs: int, reps: int, grow_first: bool) -> list[tuple[int, int]]:
    """(in, out) of each separable conv of a block."""
    if grow_first:
        return [(in_chs if i == 0 else out_chs, out_chs) for i in range(reps)]
    return [(in_chs, out_chs if i == reps - 1 else in_chs) for i in range(reps)]


def check_block(reps, start_with_relu, grow_first) -> None:
    check_int("xception_block", "reps", reps)
    check_bool("xception_block", "start_with_relu", start_with_relu)
    check_bool("xception_block", "grow_first", grow_first)


def separable_cost(in_chs: int, out_chs: int, kernel: int, stride: int, h: int, w: int) -> tuple[C.Cost, int, int]:
    """Depthwise k x k (strides) then pointwise 1x1, no bias, nothing between."""
    dw, ho, wo = C.conv(in_chs, in_chs, kernel, stride, h, w, groups=in_chs)
    pw, _, _ = C.conv(in_chs, out_chs, 1, 1, ho, wo)
    return dw + pw, ho, wo


def block_cost(in_chs, out_chs, stride, h, w, *, reps: int = 2, start_with_relu: bool = True,
               grow_first: bool = True) -> C.Cost:
    check_block(reps, start_with_relu, grow_first)
    total = C.ZERO
    for a, b in rep_widths(in_chs, out_chs, reps, grow_first):
        total = total + separable_cost(a, b, 3, 1, h, w)[0] + C.bn(b)  # the pool strides, after the branch
    if stride != 1 or in_chs != out_chs:
        total = total + C.conv_bn(in_chs, out_chs, 1, stride, h, w)[0]
    return total


def sep_conv_cost(in_chs, out_chs, stride, h, w, *, kernel: int = 3, act: str = "relu") -> C.Cost:
    check_kernel("xception_sep_conv", kernel)
    check_act("xception_sep_conv", act)
    return separable_cost(in_chs, out_chs, kernel, stride, h, w)[0] + C.bn(out_chs)


register("xception_block", block_cost, CHOLLET, factory=f"{MODULES}:XceptionBlock")
register("xception_sep_conv", sep_conv_cost, CHOLLET, factory=f"{MODULES}:sep_conv_bn_act")
