"""Residual blocks: the basic and bottleneck blocks of ResNet (He et al. 2016, "Deep Residual
Learning") and the grouped bottleneck of ResNeXt (Xie et al. 2017, "Aggregated Residual
Transformations"), with Squeeze-and-Excitation (Hu et al. 2018, SE-ResNet) and drop path as options.
Costs, checks and entries; the modules are in ``cells.modules.residual``.

Layout as torchvision's ResNet v1.5: the stride sits on the 3x3 conv, the shortcut is the
identity when the shape is kept and a 1x1 strided conv + BN ("downsample") otherwise, the ReLU
comes after the add. ``out_chs`` is always the block's output; the bottleneck's inner width follows
torchvision's rule with planes = out_chs / 4 (expansion 4): ``int(out_chs * base_width / 256) *
groups`` (at least one channel per group), unless ``width`` is given. SE (as in SE-ResNet) gates the
residual branch before the add, its squeeze width relative to the gated (output) channels, ReLU.
"""
from __future__ import annotations

from cells import counting as C
from cells.checks import check_int, check_ratio
from cells.registry import register
from cells.se import maybe_se_cost

HE = "He et al. 2016 (ResNet)"
XIE = "Xie et al. 2017 (ResNeXt)"
MODULES = "cells.modules.residual"


def needs_projection(in_chs: int, out_chs: int, stride: int) -> bool:
    return stride != 1 or in_chs != out_chs


def _common_cost(in_chs, out_chs, stride, h, w, se_ratio) -> C.Cost:
    """The SE and the projection shortcut, shared by every residual block."""
    total = maybe_se_cost(out_chs, out_chs, se_ratio)
    if needs_projection(in_chs, out_chs, stride):
        total = total + C.conv_bn(in_chs, out_chs, 1, stride, h, w)[0]
    return total


def check_common(op: str, se_ratio, drop_path) -> None:
    check_ratio(op, "se_ratio", se_ratio)
    check_ratio(op, "drop_path", drop_path, closed=False)


SHORTCUTS = ("conv", "pad")


def check_shortcut(in_chs: int, out_chs: int, shortcut: str) -> None:
    """``pad`` is the CIFAR ResNets' option A (He et al. 2016, section 4.2): the identity,
    subsampled at stride 2 and zero-padded to the wider output, with no parameters."""
    if shortcut not in SHORTCUTS:
        raise ValueError(f"basic_block: shortcut must be one of {', '.join(SHORTCUTS)}, got {shortcut!r}")
    if shortcut == "pad" and out_chs < in_chs:
        raise ValueError(f"basic_block: shortcut 'pad' cannot narrow {in_chs} -> {out_chs} channels; use 'conv'")


def basic_cost(in_chs, out_chs, stride, h, w, *, se_ratio=0.0, drop_path=0.0, shortcut: str = "conv") -> C.Cost:
    check_common("basic_block", se_ratio, drop_path)
    check_shortcut(in_chs, out_chs, shortcut)
    a, ho, wo = C.conv_bn(in_chs, out_chs, 3, stride, h, w)
    b, _, _ = C.conv_bn(out_chs, out_chs, 3, 1, ho, wo)
    if shortcut == "pad":
        return a + b + maybe_se_cost(out_chs, out_chs, se_ratio)
    return a + b + _common_cost(in_chs, out_chs, stride, h, w, se_ratio)


def bottleneck_width(op: str, out_chs: int, groups: int, base_width: int, width: int | None) -> int:
    """The 3x3's width: given, or torchvision's ``int(planes * base_width / 64) * groups``."""
    check_int(op, "groups", groups)
    check_int(op, "base_width", base_width)
    if width is None:
        return max(1, out_chs * base_width // 256) * groups
    check_int(op, "width", width)
    if width % groups:
        raise ValueError(f"{op}: width {width} must be a multiple of groups {groups}")
    return width


def _bottleneck_cost(op, in_chs, out_chs, stride, h, w, width, groups, base_width, se_ratio, drop_path) -> C.Cost:
    check_common(op, se_ratio, drop_path)
    mid = bottleneck_width(op, out_chs, groups, base_width, width)
    a, _, _ = C.conv_bn(in_chs, mid, 1, 1, h, w)
    b, ho, wo = C.conv_bn(mid, mid, 3, stride, h, w, groups=groups)
    c, _, _ = C.conv_bn(mid, out_chs, 1, 1, ho, wo)
    return a + b + c + _common_cost(in_chs, out_chs, stride, h, w, se_ratio)


def bottleneck_cost(in_chs, out_chs, stride, h, w, *, width=None, groups=1, base_width=64, se_ratio=0.0,
                    drop_path=0.0) -> C.Cost:
    return _bottleneck_cost("bottleneck", in_chs, out_chs, stride, h, w, width, groups, base_width, se_ratio,
                            drop_path)


def resnext_cost(in_chs, out_chs, stride, h, w, *, width=None, groups=32, base_width=4, se_ratio=0.0,
                 drop_path=0.0) -> C.Cost:
    """The bottleneck with ResNeXt's defaults: cardinality 32, 4 channels per group at out_chs 256."""
    return _bottleneck_cost("resnext_block", in_chs, out_chs, stride, h, w, width, groups, base_width, se_ratio,
                            drop_path)


register("basic_block", basic_cost, HE, factory=f"{MODULES}:basic_block")
register("bottleneck", bottleneck_cost, HE, factory=f"{MODULES}:bottleneck")
register("resnext_block", resnext_cost, XIE, factory=f"{MODULES}:resnext_block")
