"""Squeeze-and-Excitation (Hu et al. 2018, "Squeeze-and-Excitation Networks"): cost and entry.

Global average pool -> 1x1 conv (bias) -> activation -> 1x1 conv (bias) -> sigmoid gate that
rescales each channel; the two 1x1 convs are the paper's two FC layers. The gate is both an option
of the other blocks (``se_ratio`` on residual blocks, ``ds_conv``, ``mbconv``) and a registry
entry of its own, ``se`` (module in ``cells.modules.se``).

As a block, SE cannot change channels (``same_chs``). At stride 2 it is preceded by the same
parameter-free 3x3 average pool (stride 2, padding 1, padding excluded from the mean) as the
registry's ``avg_pool_3x3``: the gate reweights channels and has no spatial extent, so the only
principled way to halve resolution without adding weights is to pool first and gate the pooled map.
"""
from __future__ import annotations

from cells import counting as C
from cells.checks import check_act, check_ratio
from cells.registry import register

HU = "Hu et al. 2018 (Squeeze-and-Excitation)"


def squeeze_chs(base_chs: int, ratio: float) -> int:
    """Width of the squeeze: ``max(1, int(base_chs * ratio))`` (torchvision's EfficientNet rule,
    with ``base_chs`` the block input's channels there and the gated channels in SE-ResNet)."""
    return max(1, int(base_chs * ratio))


def se_cost(chs: int, squeeze: int) -> C.Cost:
    """Two biased 1x1 convs on a 1x1 map; pooling and the gating multiply are not counted."""
    return C.Cost(2 * chs * squeeze + squeeze + chs, 2 * chs * squeeze)


def maybe_se_cost(chs: int, base_chs: int, ratio: float) -> C.Cost:
    return se_cost(chs, squeeze_chs(base_chs, ratio)) if ratio > 0 else C.ZERO


def check_se_block(se_ratio: float, act: str) -> None:
    if check_ratio("se", "se_ratio", se_ratio) == 0.0:
        raise ValueError("se: se_ratio must be > 0 for the SE block (0 would remove the gate), got 0")
    check_act("se", act)


def se_block_cost(in_chs: int, out_chs: int, stride: int, h: int, w: int, *,
                  se_ratio: float = 0.25, act: str = "relu") -> C.Cost:
    check_se_block(se_ratio, act)
    return se_cost(in_chs, squeeze_chs(in_chs, se_ratio))


register("se", se_block_cost, HU, factory="cells.modules.se:se_block", same_chs=True)
