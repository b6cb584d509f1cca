"""Analytic layout and cost of a block-space network (MnasNet, Tan et al. 2019; EfficientNet,
Tan & Le 2019), with no module built.

``plan(spec)`` walks the network once and lists its parts (stem, every block, head, pool,
classifier) with shapes and costs from the ``cells`` registry; the cost, the graph and the builder
all read that one walk, so they cannot disagree about shapes. Every block gets its registry name
and options here; a regular-conv (``cn``) block is the registry's ``conv_bn_act`` plus the same
SE gate and identity skip the other blocks carry.
"""
from __future__ import annotations

import dataclasses

import math
from dataclasses import dataclass

import cells
from cells.counting import Cost, linear
from cells.se import maybe_se_cost
from search_spaces.blocks.spec import BlockSpec, StageSpec

REGISTRY_OP = {"cn": "conv_bn_act", "ds": "ds_conv", "ir": "mbconv"}
IN_CHANNELS = 3


@dataclass(frozen=True)
class Part:
    """One node of the network: ``h``/``w``/``chs`` are its output shape."""

    name: str
    op: str
    label: str
    kind: str
    chs: int
    h: int
    w: int
    cost: Cost
    stage: int = 0
    in_chs: int = 0
    stride: int = 1
    options: tuple = ()

    def option_dict(self) -> dict:
        return dict(self.options)


def block_options(stage: StageSpec) -> dict:
    """Registry options for one block of ``stage`` (drop path is a build-time addition)."""
    if stage.op == "ir":
        return {"expand": stage.expand, "kernel": stage.kernel, "se_ratio": stage.se_ratio,
                "act": stage.act, "skip": stage.skip}
    if stage.op == "ds":
        return {"kernel": stage.kernel, "act": stage.act, "se_ratio": stage.se_ratio, "skip": stage.skip}
    return {"kernel": stage.kernel, "act": stage.act}


def block_cost(stage: StageSpec, in_chs: int, stride: int, h: int, w: int) -> Cost:
    cost = cells.cost(REGISTRY_OP[stage.op], in_chs, stage.out_chs, stride, h, w, **block_options(stage))
    if stage.op == "cn":  # the gate sits on the conv's output, its width set by the block input
        cost = cost + maybe_se_cost(stage.out_chs, in_chs, stage.se_ratio)
    return cost


def block_label(stage: StageSpec) -> str:
    """The papers' figure wording: MBConv6 (k3x3), SepConv (k5x5), Conv (k3x3), with SE."""
    name = {"cn": "Conv", "ds": "SepConv", "ir": f"MBConv{stage.expand}"}[stage.op]
    label = f"{name} (k{stage.kernel}x{stage.kernel})"
    if stage.se_ratio:
        label += f", SE {stage.se_ratio:g}"
    if stage.act != "relu":
        label += f", {stage.act}"
    if not stage.skip:
        label += ", no skip"
    return label


def plan(spec: BlockSpec) -> list[Part]:
    """Every part of the network in forward order, with output shapes and analytic costs."""
    h = w = spec.resolution
    stem_cost = cells.cost("conv_bn_act", IN_CHANNELS, spec.stem, 2, h, w, kernel=3, act=spec.stem_act)
    h, w = math.ceil(h / 2), math.ceil(w / 2)
    parts = [Part("stem", "stem", "Conv (k3x3), stride 2", "conv_bn_act", spec.stem, h, w, stem_cost,
                  in_chs=IN_CHANNELS, stride=2, options=(("kernel", 3), ("act", spec.stem_act)))]
    chs = spec.stem
    for s, stage in enumerate(spec.stages, start=1):
        label = block_label(stage)
        options = tuple(block_options(stage).items())
        for b in range(1, stage.repeats + 1):
            stride = stage.stride if b == 1 else 1
            cost = block_cost(stage, chs, stride, h, w)
            h, w = math.ceil(h / stride), math.ceil(w / stride)
            parts.append(Part(f"s{s}.b{b}", "block", label, stage.op, stage.out_chs, h, w, cost,
                              stage=s, in_chs=chs, stride=stride, options=options))
            chs = stage.out_chs
    head_cost = cells.cost("conv_bn_act", chs, spec.head, 1, h, w, kernel=1, act=spec.head_act)
    parts.append(Part("head", "head", "Conv (k1x1)", "conv_bn_act", spec.head, h, w, head_cost,
                      in_chs=chs, options=(("kernel", 1), ("act", spec.head_act))))
    parts.append(Part("pool", "pool", "Global avg pool", "pool", spec.head, 1, 1, Cost(), in_chs=spec.head))
    parts.append(Part("classifier", "output", f"FC {spec.num_classes}", "linear", spec.num_classes, 1, 1,
                      linear(spec.head, spec.num_classes), in_chs=spec.head))
    return parts


def network_cost(spec: BlockSpec) -> Cost:
    """Parameters and MACs of the built network for one ``resolution`` x ``resolution`` image."""
    total = Cost()
    for part in plan(spec):
        total = total + part.cost
    return total


def scale_blocks(spec: BlockSpec, width: float, depth: float, resolution: float) -> BlockSpec:
    """Stem, every stage's channels and the head through ``round_filters``, repeats through
    ``round_repeats``. The TPU reference rounds the head's 1280 the same way; torchvision instead
    makes it 4x the last stage's scaled channels: both give the same width for B0..B7."""
    from search_spaces.scaling import check_multipliers, round_filters, round_repeats
    check_multipliers(width, depth, resolution)
    stages = tuple(dataclasses.replace(s, out_chs=round_filters(s.out_chs, width),
                                       repeats=round_repeats(s.repeats, depth)) for s in spec.stages)
    return dataclasses.replace(spec, stem=round_filters(spec.stem, width), stages=stages,
                               head=round_filters(spec.head, width),
                               resolution=max(1, int(round(spec.resolution * resolution))))
