"""Shapes and analytic cost of the NAS-Bench-201 macro network (Dong & Yang 2020): stem, three
stages of 5 cells separated by residual reduction blocks, BN-ReLU-pool, linear head."""
from __future__ import annotations

from typing import Sequence

import cells
from cells import counting as C
from cells.counting import Cost
from search_spaces.nasbench201.spec import CELL_OPS, CELLS_PER_STAGE, STEM_CHS, NB201Spec


def layers(spec: NB201Spec) -> list[dict]:
    """The macro network as a list of stages with their output shape and analytic cost."""
    h = spec.resolution
    stem = C.conv_bn(3, STEM_CHS, 3, 1, h, h)[0]
    layers = [{"id": "stem", "op": "stem", "kind": "stem", "label": f"conv 3x3, {STEM_CHS}",
               "channels": STEM_CHS, "height": h, "cost": stem}]
    chs = STEM_CHS
    for stage in range(3):
        if stage:
            out = chs * 2
            layers.append({"id": f"reduce{stage}", "op": "block", "kind": "reduction",
                           "label": f"residual block /2, {out}", "channels": out,
                           "height": h // 2, "cost": reduction_cost(chs, out, h)})
            chs, h = out, h // 2
        for k in range(CELLS_PER_STAGE):
            layers.append({"id": f"cell{stage}_{k}", "op": "cell", "kind": "normal",
                           "label": f"cell, {chs}", "channels": chs, "height": h,
                           "cost": cell_cost(spec.ops, chs, h)})
    layers.append({"id": "pool", "op": "pool", "kind": "pool", "label": "BN-ReLU-global avg pool",
                   "channels": chs, "height": 1, "cost": C.bn(chs)})
    layers.append({"id": "head", "op": "head", "kind": "head", "label": f"linear, {spec.num_classes}",
                   "channels": spec.num_classes, "height": 1,
                   "cost": C.linear(chs, spec.num_classes)})
    return layers


def edge_cost(op: str, chs: int, h: int) -> Cost:
    return cells.cost(CELL_OPS[op], chs, chs, 1, h)


def cell_cost(ops: Sequence[str], chs: int, h: int) -> Cost:
    return sum((edge_cost(op, chs, h) for op in ops), C.ZERO)


def reduction_cost(in_chs: int, out_chs: int, h: int) -> Cost:
    """ResNet basic block, stride 2: two ReLU-conv3x3-BN and an avg-pool + 1x1 conv shortcut."""
    conv_a, ho, wo = C.conv_bn(in_chs, out_chs, 3, 2, h, h)
    conv_b = C.conv_bn(out_chs, out_chs, 3, 1, ho, wo)[0]
    shortcut = C.conv(in_chs, out_chs, 1, 1, h // 2, h // 2)[0]
    return conv_a + conv_b + shortcut


