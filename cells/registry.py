"""The flat operation registry: name -> (factory, analytic cost), one signature for all.

As in the DARTS reference's ``OPS`` dict, every entry is built as
``factory(in_chs, out_chs, stride, **options)``; shape rules (a stride-2 skip becoming a
factorized reduce, pooling refusing to change channels) live inside the entry, and each entry
also knows its cost analytically (pycls's habit) so search spaces can price an architecture
without building it. The registry is filled at import time and read-only afterwards.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping

from torch import nn

from cells.counting import Cost

Factory = Callable[..., nn.Module]
CostFn = Callable[..., Cost]


@dataclass(frozen=True)
class OpDef:
    """One vocabulary entry.

    ``cost(in_chs, out_chs, stride, h, w, **options)`` returns the same parameter count as the
    built module and its MACs for one ``h x w`` input. ``same_chs`` marks entries that cannot
    change the channel count (pooling, identity, SE).
    """

    name: str
    factory: Factory
    cost: CostFn
    paper: str
    same_chs: bool = False


_OPS: dict[str, OpDef] = {}
OPS: Mapping[str, OpDef] = MappingProxyType(_OPS)


def register(name: str, cost: CostFn, paper: str, *, same_chs: bool = False) -> Callable[[Factory], Factory]:
    """Decorator adding ``factory`` under ``name``; a second registration of a name raises."""

    def add(factory: Factory) -> Factory:
        if name in _OPS:
            raise ValueError(f"operation {name!r} is already registered (by {_OPS[name].factory.__qualname__})")
        _OPS[name] = OpDef(name, factory, cost, paper, same_chs)
        return factory

    return add


def get(name: str) -> OpDef:
    try:
        return _OPS[name]
    except KeyError:
        raise KeyError(f"unknown operation {name!r}; valid names: {', '.join(sorted(_OPS))}") from None


def check_shape(name: str, in_chs: int, out_chs: int, stride: int) -> None:
    """Reject impossible shapes at the boundary, before torch sees them."""
    for field, value in (("in_chs", in_chs), ("out_chs", out_chs)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name}: {field} must be a positive int, got {value!r}")
    if stride not in (1, 2):
        raise ValueError(f"{name}: stride must be 1 or 2, got {stride!r}")
    if get(name).same_chs and in_chs != out_chs:
        raise ValueError(f"{name} cannot change the channel count ({in_chs} -> {out_chs}); "
                         "use an op with a projection, or equal in_chs and out_chs")


def create(name: str, in_chs: int, out_chs: int, stride: int = 1, **options) -> nn.Module:
    """Build the operation ``name``; output is ``(N, out_chs, ceil(H/stride), ceil(W/stride))``."""
    op = get(name)
    check_shape(name, in_chs, out_chs, stride)
    return op.factory(in_chs, out_chs, stride, **options)


def cost(name: str, in_chs: int, out_chs: int, stride: int, h: int, w: int | None = None, **options) -> Cost:
    """Analytic parameters and MACs of ``create(name, ...)`` on one ``h x w`` input."""
    op = get(name)
    check_shape(name, in_chs, out_chs, stride)
    return op.cost(in_chs, out_chs, stride, h, h if w is None else w, **options)


def out_hw(h: int, w: int, stride: int) -> tuple[int, int]:
    """Every registry entry maps H x W to ceil(H/s) x ceil(W/s)."""
    return math.ceil(h / stride), math.ceil(w / stride)
