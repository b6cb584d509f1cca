"""The dual-path block of DPN (Chen et al. 2017, "Dual Path Networks"): costs, checks and the
entry (module in ``cells.modules.dpn``).

A DPN block carries two paths: a residual path of ``residual_chs`` channels that each block adds to
(ResNet's reuse) and a dense path that each block concatenates ``growth`` new channels onto
(DenseNet's exploration). The registry passes one tensor, so the state is the two concatenated,
residual channels first: ``in_chs = residual + dense``. The block is pre-activation throughout
(BN -> ReLU -> conv, eps 1e-3 as the authors' MXNet code and timm's ``dpn``): a 1x1 to
``bottleneck`` channels, a grouped 3x3 (strides), a 1x1 to ``residual_chs + growth`` channels whose
first part is added to the residual path and whose rest is appended to the dense path.

A *projection* block (the first of each DPN stage) starts both paths afresh: a separate
BN -> ReLU -> 1x1 conv (strided) maps the whole input to the new residual path plus a dense path of
``out_chs - residual_chs - growth`` channels (DPN's 2 x growth). A block projects when it strides,
when ``project`` is on, or when its widths cannot be a plain block's (``out_chs != in_chs + growth``).

Defaults, for a block standing alone: ``growth`` an eighth of ``out_chs`` (at least 1), a projection's
``residual_chs`` is ``out_chs - 3 * growth`` (DPN's rule; a plain block must be told its residual
width, which its input alone does not reveal) and ``bottleneck`` is DPN-92's 3/8 of the residual
width (``k_R = 96`` per 256), a multiple of ``groups`` with at least one channel per group.
"""
from __future__ import annotations

from dataclasses import dataclass

from cells import counting as C
from cells.checks import check_bool, check_int
from cells.registry import register

CHEN = "Chen et al. 2017 (DPN)"
MODULES = "cells.modules.dpn"
OP = "dual_path_block"


@dataclass(frozen=True)
class DualPathWidths:
    """A block's resolved widths; ``project_chs`` is 0 for a plain block."""

    residual: int
    growth: int
    bottleneck: int
    project_chs: int


def widths(in_chs: int, out_chs: int, stride: int, residual_chs: int | None, growth: int | None, groups: int,
           bottleneck: int | None, project: bool) -> DualPathWidths:
    """Resolve the options against the block's shape; impossible widths raise, naming the field."""
    check_int(OP, "groups", groups)
    check_bool(OP, "project", project)
    growth = max(1, out_chs // 8) if growth is None else check_int(OP, "growth", growth)
    projects = project or stride != 1 or in_chs + growth != out_chs
    if residual_chs is None:
        if not projects:
            raise ValueError(f"{OP}: a plain block ({in_chs} -> {out_chs}, growth {growth}) needs residual_chs, "
                             "the width of the residual part of its input")
        residual_chs = out_chs - 3 * growth
    check_int(OP, "residual_chs", residual_chs)
    if projects and residual_chs + growth > out_chs:
        raise ValueError(f"{OP}: residual_chs {residual_chs} + growth {growth} exceed out_chs {out_chs}")
    if not projects and residual_chs > in_chs:
        raise ValueError(f"{OP}: residual_chs {residual_chs} exceeds in_chs {in_chs} (residual + dense input)")
    if bottleneck is None:
        bottleneck = max(1, 3 * residual_chs // (8 * groups)) * groups
    elif check_int(OP, "bottleneck", bottleneck) % groups:
        raise ValueError(f"{OP}: bottleneck {bottleneck} must be a multiple of groups {groups}")
    return DualPathWidths(residual_chs, growth, bottleneck, out_chs - growth if projects else 0)


def dual_path_cost(in_chs, out_chs, stride, h, w, *, residual_chs: int | None = None, growth: int | None = None,
                   groups: int = 32, bottleneck: int | None = None, project: bool = False) -> C.Cost:
    d = widths(in_chs, out_chs, stride, residual_chs, growth, groups, bottleneck, project)
    total = C.ZERO
    if d.project_chs:
        total = C.bn(in_chs) + C.conv(in_chs, d.project_chs, 1, stride, h, w)[0]
    a, _, _ = C.conv(in_chs, d.bottleneck, 1, 1, h, w)
    b, ho, wo = C.conv(d.bottleneck, d.bottleneck, 3, stride, h, w, groups=groups)
    c, _, _ = C.conv(d.bottleneck, d.residual + d.growth, 1, 1, ho, wo)
    return total + C.bn(in_chs) + a + C.bn(d.bottleneck) + b + C.bn(d.bottleneck) + c


register(OP, dual_path_cost, CHEN, factory=f"{MODULES}:DualPathBlock")
