"""The pre-activation basic block of Wide Residual Networks (Zagoruyko & Komodakis 2016, "Wide
Residual Networks", Fig. 1(c)/(d) and section 2): BN -> ReLU -> 3x3 conv (strides) -> BN -> ReLU ->
(dropout) -> 3x3 conv, added to the shortcut with no activation after the add (He et al. 2016b,
"Identity Mappings in Deep Residual Networks"). Cost, checks and entry; the module is in
``cells.modules.preact``.

When the shape changes the shortcut is a 1x1 strided conv with no BN, and, as in the authors' code,
it reads the pre-activated input (the first BN-ReLU is shared by both paths); when the shape is kept
the shortcut is the raw input. Dropout sits between the two convs (the paper's "wide-dropout"
block, 0.3 for the CIFAR WRN-28-10 results); it has no parameters.
"""
from __future__ import annotations

from cells import counting as C
from cells.checks import check_ratio
from cells.registry import register

ZAGORUYKO = "Zagoruyko & Komodakis 2016 (Wide ResNet)"


def check_preact(dropout: float) -> None:
    check_ratio("preact_block", "dropout", dropout, closed=False)


def preact_cost(in_chs: int, out_chs: int, stride: int, h: int, w: int, *, dropout: float = 0.0) -> C.Cost:
    check_preact(dropout)
    a, ho, wo = C.conv(in_chs, out_chs, 3, stride, h, w)
    b, _, _ = C.conv(out_chs, out_chs, 3, 1, ho, wo)
    total = C.bn(in_chs) + a + C.bn(out_chs) + b
    if stride != 1 or in_chs != out_chs:
        total = total + C.conv(in_chs, out_chs, 1, stride, h, w)[0]
    return total


register("preact_block", preact_cost, ZAGORUYKO, factory="cells.modules.preact:preact_block")
