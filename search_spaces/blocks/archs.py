"""The papers' block architectures as named specs: MnasNet-B1 and -A1 (Tan et al. 2019,
"MnasNet: Platform-Aware Neural Architecture Search for Mobile") and EfficientNet-B0..B7 (Tan & Le
2019, "EfficientNet: Rethinking Model Scaling for CNNs").

Block strings follow the TPU reference (``mnasnet_models.py``, ``efficientnet_builder.py``) and
timm's ports of them. EfficientNet-B1..B7 are not written out: they are B0 under ``scaling.scale``
with the released coefficient table, which is the point of compound scaling.
"""
from __future__ import annotations

import dataclasses
from types import MappingProxyType

from search_spaces.blocks.spec import BlockSpec, parse_stage
from search_spaces.blocks.plan import scale_blocks
from search_spaces.scaling import COEFFICIENTS


def _spec(stem: int, stages: list[str], head: int, act: str = "relu") -> BlockSpec:
    parsed = tuple(parse_stage(s if act == "relu" else f"{s}_{act}") for s in stages)
    return BlockSpec(stem, parsed, head, 1000, 224, act, act)


# MnasNet-B1, the searched model without SE (torchvision's mnasnet1_0). The first stage is a
# separable conv whose 32 -> 16 channel change rules out a skip anyway.
MNASNET_B1 = _spec(32, [
    "ds_r1_k3_s1_c16_noskip",
    "ir_r3_k3_s2_e3_c24",
    "ir_r3_k5_s2_e3_c40",
    "ir_r3_k5_s2_e6_c80",
    "ir_r2_k3_s1_e6_c96",
    "ir_r4_k5_s2_e6_c192",
    "ir_r1_k3_s1_e6_c320",
], 1280)

# MnasNet-A1 (the paper's Figure 7(a)), with squeeze-and-excitation in three stages.
MNASNET_A1 = _spec(32, [
    "ds_r1_k3_s1_c16_noskip",
    "ir_r2_k3_s2_e6_c24",
    "ir_r3_k5_s2_e3_c40_se0.25",
    "ir_r4_k3_s2_e6_c80",
    "ir_r2_k3_s1_e6_c112_se0.25",
    "ir_r3_k5_s2_e6_c160_se0.25",
    "ir_r1_k3_s1_e6_c320",
], 1280)

# EfficientNet-B0 (the paper's Table 1): MnasNet-like, searched with a FLOPs target; swish everywhere.
EFFICIENTNET_B0 = _spec(32, [
    "ir_r1_k3_s1_e1_c16_se0.25",
    "ir_r2_k3_s2_e6_c24_se0.25",
    "ir_r2_k5_s2_e6_c40_se0.25",
    "ir_r3_k3_s2_e6_c80_se0.25",
    "ir_r3_k5_s1_e6_c112_se0.25",
    "ir_r4_k5_s2_e6_c192_se0.25",
    "ir_r1_k3_s1_e6_c320_se0.25",
], 1280, act="silu")


def efficientnet(variant: str) -> BlockSpec:
    """EfficientNet-``variant`` (b0..b7) as B0 scaled by the released coefficient table."""
    key = variant.lower().removeprefix("efficientnet_").removeprefix("efficientnet-")
    if key not in COEFFICIENTS:
        raise ValueError(f"unknown EfficientNet variant {variant!r}; accepted: {', '.join(COEFFICIENTS)}")
    c = COEFFICIENTS[key]
    scaled = scale_blocks(EFFICIENTNET_B0, c.width, c.depth, c.resolution / EFFICIENTNET_B0.resolution)
    return dataclasses.replace(scaled, dropout=c.dropout)  # the paper's per-variant dropout (0.2 .. 0.5)


NAMED = MappingProxyType({
    "mnasnet_b1": MNASNET_B1,
    "mnasnet_a1": MNASNET_A1,
    **{f"efficientnet_{key}": efficientnet(key) for key in COEFFICIENTS},
})
