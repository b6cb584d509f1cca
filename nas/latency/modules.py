"""Torch modules for latency units (profiling only; predictions never import this).

Each unit becomes the module its space's builder makes for it, from the builders' own pieces
(``search_spaces.cell.build.op_module``, ``search_spaces.blocks.build.ConvBlock``,
``search_spaces.nasbench201.build.ResidualReduction``, ``cells.create``), with random inputs of
the planned shape (OFA, Cai et al. 2020, profiles each op of its space the same way).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from nas.latency.units import Unit


class _Binary(nn.Module):
    def __init__(self, fn: Callable) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.fn(*xs)


def _cat(*xs: torch.Tensor) -> torch.Tensor:
    return torch.cat(xs, dim=1)


def _image(batch: int, chs: int, size: int) -> torch.Tensor:
    return torch.randn(batch, chs, size, size)


def module_and_inputs(unit: Unit, batch: int) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The module a network builds for ``unit`` and random inputs of its planned shapes."""
    kind, a = unit.kind, unit.args
    if kind == "op":
        from search_spaces.cell.build import op_module
        from search_spaces.cell.plan import OpUse
        return op_module(OpUse(*a)), (_image(batch, a[1], a[4]),)
    if kind in ("add", "cat"):
        chs, size = a
        return _Binary(torch.add if kind == "add" else _cat), (_image(batch, chs, size), _image(batch, chs, size))
    if kind == "cell_concat":
        chs, size = a
        return _Binary(_cat), tuple(_image(batch, c, size) for c in chs)
    if kind == "cell_stem":
        from search_spaces.cell.build import _stem_module
        from search_spaces.cell.plan import Conv, StemPlan
        convs = tuple(Conv(*c) for c in a)
        return _stem_module(StemPlan("stem", "input", convs)), (_image(batch, convs[0].in_chs, convs[0].size),)
    if kind == "cell_tail":
        relu, chs, size, classes = a
        layers = [nn.ReLU()] if relu else []
        return (nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(chs, classes)),
                (_image(batch, chs, size),))
    if kind == "conv_bn_act":
        import cells
        in_chs, out_chs, stride, kernel, act, size = a
        module = cells.create("conv_bn_act", in_chs, out_chs, stride, kernel=kernel, act=act)
        return module, (_image(batch, in_chs, size),)
    if kind == "block":
        return _block(a), (_image(batch, a[6], a[9]),)
    if kind == "block_tail":
        chs, size, classes = a
        tail = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(chs, classes))
        return tail, (_image(batch, chs, size),)
    if kind == "nb201_stem":
        chs, size = a
        stem = nn.Sequential(nn.Conv2d(3, chs, 3, padding=1, bias=False), nn.BatchNorm2d(chs))
        return stem, (_image(batch, 3, size),)
    if kind == "nb201_reduce":
        from search_spaces.nasbench201.build import ResidualReduction
        in_chs, out_chs, size = a
        return ResidualReduction(in_chs, out_chs), (_image(batch, in_chs, size),)
    if kind == "nb201_tail":
        chs, size, classes = a
        return (nn.Sequential(nn.BatchNorm2d(chs), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                              nn.Linear(chs, classes)), (_image(batch, chs, size),))
    raise ValueError(f"latency unit kind {kind!r} has no module; known: op, add, cat, cell_concat, cell_stem, "
                     "cell_tail, conv_bn_act, block, block_tail, nb201_stem, nb201_reduce, nb201_tail")


def _block(a: tuple) -> nn.Module:
    import cells
    from search_spaces.blocks.build import ConvBlock
    from search_spaces.blocks.plan import REGISTRY_OP
    op, expand, kernel, se_ratio, act, skip, in_chs, out_chs, stride, _ = a
    if op == "cn":
        return ConvBlock(in_chs, out_chs, stride, kernel=kernel, act=act, se_ratio=se_ratio, skip=skip)
    options = {"kernel": kernel, "act": act, "se_ratio": se_ratio, "skip": skip}
    if op == "ir":
        options["expand"] = expand
    return cells.create(REGISTRY_OP[op], in_chs, out_chs, stride, **options)
