"""Build a block-space spec into a torch module (MnasNet, Tan et al. 2019; EfficientNet, Tan & Le
2019): conv stem, the stages' blocks from the ``cells`` registry, 1x1 conv head, global average
pool, dropout, linear classifier.

The module's parameter order matches torchvision's ``EfficientNet`` and ``MNASNet`` for the same
architecture, so ``load_ordered_state_dict`` can carry their (randomly initialised or trained)
weights over. Dropout and drop path (stochastic depth, rising linearly with block index to
``drop_path`` at the last block, as torchvision and the TPU reference do) are build options,
not part of the spec.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

import cells
from cells.modules.drop_path import DropPath
from cells.modules.se import maybe_se
from search_spaces.blocks.plan import REGISTRY_OP, Part, plan
from search_spaces.blocks.spec import BlockSpec


class ConvBlock(nn.Module):
    """MnasNet's plain "Conv" choice as a block: conv -> BN -> act, optional SE gate (its width
    set by the block input, like the other blocks) and an identity skip when shapes allow."""

    def __init__(self, in_chs: int, out_chs: int, stride: int, *, kernel: int, act: str,
                 se_ratio: float, skip: bool, drop_path: float = 0.0):
        super().__init__()
        self.conv = cells.create("conv_bn_act", in_chs, out_chs, stride, kernel=kernel, act=act)
        self.se = maybe_se(out_chs, in_chs, se_ratio, act) or nn.Identity()
        self.has_skip = skip and stride == 1 and in_chs == out_chs
        self.drop_path = DropPath(drop_path) if self.has_skip else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.se(self.conv(x))
        return self.drop_path(out) + x if self.has_skip else out


def _make_block(part: Part, spec: BlockSpec, drop_path: float) -> nn.Module:
    stage = spec.stages[part.stage - 1]
    if stage.op == "cn":
        return ConvBlock(part.in_chs, part.chs, part.stride, kernel=stage.kernel, act=stage.act,
                         se_ratio=stage.se_ratio, skip=stage.skip, drop_path=drop_path)
    return cells.create(REGISTRY_OP[stage.op], part.in_chs, part.chs, part.stride,
                        drop_path=drop_path, **part.option_dict())


class BlockNetwork(nn.Module):
    def __init__(self, spec: BlockSpec, *, drop_path: float = 0.0):
        super().__init__()
        if not isinstance(spec, BlockSpec):
            raise TypeError(f"BlockNetwork needs a BlockSpec, got {type(spec).__name__}")
        if isinstance(drop_path, bool) or not isinstance(drop_path, (int, float)) or not 0 <= drop_path < 1:
            raise ValueError(f"build: drop_path must be a number in [0, 1), got {drop_path!r}")
        self.spec = spec
        parts = plan(spec)
        blocks = [p for p in parts if p.op == "block"]
        stem, head = parts[0], next(p for p in parts if p.op == "head")
        self.stem = cells.create("conv_bn_act", stem.in_chs, stem.chs, 2, **stem.option_dict())
        stages: list[list[nn.Module]] = [[] for _ in spec.stages]
        for i, part in enumerate(blocks):
            rate = drop_path * i / len(blocks)  # torchvision's schedule: 0 for the first block
            stages[part.stage - 1].append(_make_block(part, spec, rate))
        self.stages = nn.Sequential(*(nn.Sequential(*s) for s in stages))
        self.head = cells.create("conv_bn_act", head.in_chs, head.chs, 1, **head.option_dict())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(spec.dropout)
        self.classifier = nn.Linear(spec.head, spec.num_classes)
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.stages(self.stem(x)))
        return self.classifier(self.dropout(torch.flatten(self.pool(x), 1)))


def _init_weights(model: nn.Module) -> None:
    """The TPU reference's initialisation (fan-out normal convs, uniform classifier)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            bound = 1.0 / m.out_features ** 0.5
            nn.init.uniform_(m.weight, -bound, bound)
            nn.init.zeros_(m.bias)


def build(spec: BlockSpec, *, drop_path: float = 0.0) -> BlockNetwork:
    return BlockNetwork(spec, drop_path=drop_path)


def load_ordered_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor]) -> dict[str, str]:
    """Copy ``state`` into ``model`` entry by entry in registration order (parameters and
    buffers alike), for a source with the same layers under other names, e.g. torchvision's
    EfficientNet or MNASNet. Returns the key mapping; raises ValueError on any count or shape
    mismatch, naming both keys, before anything is copied."""
    ours = model.state_dict()
    theirs = list(state.items())
    if len(ours) != len(theirs):
        raise ValueError(f"state dict has {len(theirs)} entries, the model {len(ours)}")
    mapping = {}
    for (key, tensor), (src_key, src) in zip(ours.items(), theirs):
        if tuple(tensor.shape) != tuple(src.shape):
            raise ValueError(f"shape mismatch: model {key} {tuple(tensor.shape)} vs source {src_key} "
                             f"{tuple(src.shape)}")
        mapping[src_key] = key
    model.load_state_dict({mapping[k]: v for k, v in theirs})
    return mapping
