"""DenseNet's dense layer and transition (Huang et al. 2017, "Densely Connected Convolutional
Networks"), in the BC form (bottleneck 1x1 and compression) torchvision's ``DenseNet`` uses:
costs, checks and entries (modules in ``cells.modules.dense``).

``dense_layer``: BN -> ReLU -> 1x1 conv (``bn_size`` x growth) -> BN -> ReLU -> 3x3 conv (growth),
its output concatenated to its input, so ``out_chs = in_chs + growth``: the growth rate is the
channel difference. A dense block is ``r`` such layers (the macro space steps the width by
``(out - in) / r`` per layer). ``dense_transition``: BN -> ReLU -> 1x1 conv -> 2x2 average pool at
stride 2 (pre-activation, as the paper's transition layer).

Both obey the registry's shape contract at stride 2 as well: the pools run in ceil mode (the same
as the paper's floor for the even sizes every DenseNet sees) and a strided dense layer pools its
input 2x2 first, since a concatenation cannot stride one half of its output alone.
"""
from __future__ import annotations

from cells import counting as C
from cells.checks import check_int
from cells.registry import register

HUANG = "Huang et al. 2017 (DenseNet)"
MODULES = "cells.modules.dense"


def growth_of(in_chs: int, out_chs: int) -> int:
    if out_chs <= in_chs:
        raise ValueError(f"dense_layer: out_chs must exceed in_chs (out - in is the growth rate), "
                         f"got in_chs={in_chs}, out_chs={out_chs}")
    return out_chs - in_chs


def dense_layer_cost(in_chs, out_chs, stride, h, w, *, bn_size: int = 4) -> C.Cost:
    check_int("dense_layer", "bn_size", bn_size)
    growth = growth_of(in_chs, out_chs)
    h, w = -(-h // stride), -(-w // stride)  # the 2x2 ceil-mode pool of a strided layer
    mid = bn_size * growth
    a, _, _ = C.conv(in_chs, mid, 1, 1, h, w)
    b, _, _ = C.conv(mid, growth, 3, 1, h, w)
    return C.bn(in_chs) + a + C.bn(mid) + b


def dense_transition_cost(in_chs, out_chs, stride, h, w) -> C.Cost:
    return C.bn(in_chs) + C.conv(in_chs, out_chs, 1, 1, h, w)[0]


register("dense_layer", dense_layer_cost, HUANG, factory=f"{MODULES}:DenseLayer")
register("dense_transition", dense_transition_cost, HUANG, factory=f"{MODULES}:transition")
