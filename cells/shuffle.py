"""ShuffleNet units: v1's grouped 1x1 convs with a channel shuffle (Zhang et al. 2018,
"ShuffleNet: An Extremely Efficient CNN for Mobile Devices") and v2's channel split and shuffle
(Ma et al. 2018, "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design"):
costs, checks and entries (modules in ``cells.modules.shuffle``).

``shuffle_v2`` follows torchvision's ``InvertedResidual``: at stride 1 with ``in == out`` half the
channels pass untouched and the other half go through 1x1 -> BN -> ReLU -> k x k depthwise -> BN ->
1x1 -> BN -> ReLU; otherwise (stride 2, or a width change) both halves are branches, the first a
depthwise k x k -> BN -> 1x1 -> BN -> ReLU on the whole input. The halves are concatenated and
shuffled (2 groups). ``out_chs`` must be even.

``shuffle_v1`` follows the authors' reference (megvii-model/ShuffleNet-Series, ``ShuffleV1Block``):
grouped 1x1 (``out_chs / 4`` channels; ungrouped when ``first_group`` is off, as the very first unit
on 24 channels) -> BN -> ReLU -> shuffle -> 3x3 depthwise (strides) -> BN -> grouped 1x1 -> BN; at
stride 1 with ``in == out`` the input is added, otherwise the input is 3x3 average-pooled (stride,
padding 1) and concatenated, so the branch makes ``out - in`` channels; ReLU last.
"""
from __future__ import annotations

from cells import counting as C
from cells.checks import check_bool, check_int, check_kernel
from cells.registry import register

MA = "Ma et al. 2018 (ShuffleNet V2)"
ZHANG = "Zhang et al. 2018 (ShuffleNet)"
MODULES = "cells.modules.shuffle"


def v2_split(in_chs: int, out_chs: int, stride: int) -> bool:
    """Whether the unit splits its input (stride 1, same width) rather than branching twice."""
    return stride == 1 and in_chs == out_chs


def check_v2(in_chs: int, out_chs: int, kernel) -> None:
    check_kernel("shuffle_v2", kernel)
    if out_chs % 2:
        raise ValueError(f"shuffle_v2: out_chs must be even (two concatenated halves), got {out_chs}")


def shuffle_v2_cost(in_chs, out_chs, stride, h, w, *, kernel: int = 3) -> C.Cost:
    check_v2(in_chs, out_chs, kernel)
    half = out_chs // 2
    total = C.ZERO
    branch_in = half
    if not v2_split(in_chs, out_chs, stride):
        dw, ho, wo = C.conv_bn(in_chs, in_chs, kernel, stride, h, w, groups=in_chs)
        total = dw + C.conv_bn(in_chs, half, 1, 1, ho, wo)[0]
        branch_in = in_chs
    a, _, _ = C.conv_bn(branch_in, half, 1, 1, h, w)
    b, ho, wo = C.conv_bn(half, half, kernel, stride, h, w, groups=half)
    c, _, _ = C.conv_bn(half, half, 1, 1, ho, wo)
    return total + a + b + c


def v1_widths(in_chs: int, out_chs: int, stride: int, groups: int, first_group: bool) -> tuple[int, int, int]:
    """(branch output, bottleneck width, groups of the first 1x1)."""
    check_int("shuffle_v1", "groups", groups)
    check_bool("shuffle_v1", "first_group", first_group)
    add = stride == 1 and in_chs == out_chs
    branch = out_chs if add else out_chs - in_chs
    if branch < 1:
        raise ValueError(f"shuffle_v1: a concatenating unit needs out_chs > in_chs, got in_chs={in_chs}, "
                         f"out_chs={out_chs}")
    mid = out_chs // 4  # the paper: a quarter of the unit's output, in concatenating units too
    g1 = groups if first_group else 1
    for field, value, g in (("in_chs", in_chs, g1), ("bottleneck width (out/4)", mid, groups),
                            ("branch output", branch, groups)):
        if value < 1 or value % g:
            raise ValueError(f"shuffle_v1: {field} = {value} must be a positive multiple of groups={g}")
    return branch, mid, g1


def shuffle_v1_cost(in_chs, out_chs, stride, h, w, *, groups: int = 2, first_group: bool = True) -> C.Cost:
    branch, mid, g1 = v1_widths(in_chs, out_chs, stride, groups, first_group)
    a, _, _ = C.conv_bn(in_chs, mid, 1, 1, h, w, groups=g1)
    b, ho, wo = C.conv_bn(mid, mid, 3, stride, h, w, groups=mid)
    c, _, _ = C.conv_bn(mid, branch, 1, 1, ho, wo, groups=groups)
    return a + b + c


register("shuffle_v2", shuffle_v2_cost, MA, factory=f"{MODULES}:ShuffleV2")
register("shuffle_v1", shuffle_v1_cost, ZHANG, factory=f"{MODULES}:ShuffleV1")
