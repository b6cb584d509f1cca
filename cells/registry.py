"""The flat operation registry: name -> (analytic cost, factory), one signature for all.

As in the DARTS reference's ``OPS`` dict, every entry is built as
``factory(in_chs, out_chs, stride, **options)``; shape rules (a stride-2 skip becoming a
factorized reduce, pooling refusing to change channels) live inside the entry, and each entry
knows its cost analytically (pycls's habit) so search spaces can price an architecture without
building it. The registry itself is pure: an entry names its factory by import path
(``"cells.modules.mobile:MBConv"``) and torch is imported only when ``create`` builds one, so
specs, costs, graphs and strategies never pay for torch. The registry is filled when ``cells``
is imported and read-only afterwards.
"""
from __future__ import annotations

import importlib
import inspect
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from cells.counting import Cost

CostFn = Callable[..., Cost]


@dataclass(frozen=True)
class OpDef:
    """One vocabulary entry.

    ``cost(in_chs, out_chs, stride, h, w, **options)`` returns the same parameter count as the
    built module and its MACs for one ``h x w`` input. ``factory`` is ``"module:callable"``, called
    as ``callable(in_chs, out_chs, stride, **options)``. ``fixed`` holds options the entry pins
    (a preset's expansion and kernel), passed to both and refused from callers. ``same_chs``
    marks entries that cannot change the channel count (pooling, identity, SE). ``geometry``,
    when given, is ``geometry(h, w, stride, **options) -> (h, w)`` for entries whose options can
    leave the ceil(H / stride) rule (the unpadded "valid" reductions of Inception-v3/v4); with
    default options every entry still keeps that rule, so cells can use it.
    """

    name: str
    cost: CostFn
    paper: str
    factory: str
    same_chs: bool = False
    fixed: Mapping[str, Any] = field(default_factory=dict)
    geometry: Callable[..., tuple[int, int]] | None = None

    def options(self) -> tuple[str, ...] | None:
        """The option names a caller may pass; None when the cost function takes any."""
        params = inspect.signature(self.cost).parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in params):
            return None
        return tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name not in self.fixed)


_OPS: dict[str, OpDef] = {}
OPS: Mapping[str, OpDef] = MappingProxyType(_OPS)


def register(name: str, cost: CostFn, paper: str, *, factory: str, same_chs: bool = False,
             fixed: Mapping[str, Any] | None = None,
             geometry: Callable[..., tuple[int, int]] | None = None) -> OpDef:
    """Add an entry; a second registration of a name raises and leaves the first."""
    if name in _OPS:
        raise ValueError(f"operation {name!r} is already registered (factory {_OPS[name].factory})")
    if ":" not in factory:
        raise ValueError(f"{name}: factory must be 'module:callable', got {factory!r}")
    op = OpDef(name, cost, paper, factory, same_chs, MappingProxyType(dict(fixed or {})), geometry)
    _OPS[name] = op
    return op


def get(name: str) -> OpDef:
    try:
        return _OPS[name]
    except KeyError:
        raise KeyError(f"unknown operation {name!r}; valid names: {', '.join(sorted(_OPS))}") from None


def check_shape(name: str, in_chs: int, out_chs: int, stride: int) -> None:
    """Reject impossible shapes at the boundary, before torch sees them."""
    for field_, value in (("in_chs", in_chs), ("out_chs", out_chs)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name}: {field_} must be a positive int, got {value!r}")
    if stride not in (1, 2):
        raise ValueError(f"{name}: stride must be 1 or 2, got {stride!r}")
    if get(name).same_chs and in_chs != out_chs:
        raise ValueError(f"{name} cannot change the channel count ({in_chs} -> {out_chs}); "
                         "use an op with a projection, or equal in_chs and out_chs")


def _options(op: OpDef, options: dict[str, Any]) -> dict[str, Any]:
    """The caller's options plus the entry's fixed ones; unknown or pinned names raise TypeError."""
    pinned = sorted(set(options) & set(op.fixed))
    if pinned:
        raise TypeError(f"{op.name} fixes {', '.join(f'{k}={op.fixed[k]!r}' for k in pinned)}; "
                        f"use the general entry to change {', '.join(pinned)}")
    accepted = op.options()
    unknown = sorted(set(options) - set(accepted)) if accepted is not None else []
    if unknown:
        raise TypeError(f"{op.name}: unknown option(s) {', '.join(unknown)}; "
                        f"accepted: {', '.join(accepted) or 'none'}")
    return {**options, **op.fixed}


def cost(name: str, in_chs: int, out_chs: int, stride: int, h: int, w: int | None = None, **options) -> Cost:
    """Analytic parameters and MACs of ``create(name, ...)`` on one ``h x w`` input."""
    op = get(name)
    check_shape(name, in_chs, out_chs, stride)
    return op.cost(in_chs, out_chs, stride, h, h if w is None else w, **_options(op, options))


def create(name: str, in_chs: int, out_chs: int, stride: int = 1, **options):
    """Build the operation ``name`` (an ``nn.Module``); output is
    ``(N, out_chs, ceil(H/stride), ceil(W/stride))``. Options are checked by pricing the entry
    first, so a bad value fails here with the entry's message, never inside torch."""
    op = get(name)
    check_shape(name, in_chs, out_chs, stride)
    kwargs = _options(op, options)
    op.cost(in_chs, out_chs, stride, 8, 8, **kwargs)
    module_name, attr = op.factory.split(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(in_chs, out_chs, stride, **kwargs)


def out_hw(h: int, w: int, stride: int) -> tuple[int, int]:
    """The registry's shape rule: H x W -> ceil(H/s) x ceil(W/s)."""
    return math.ceil(h / stride), math.ceil(w / stride)


def out_size(name: str, h: int, w: int, stride: int, **options) -> tuple[int, int]:
    """Output H x W of ``create(name, ..., stride, **options)`` on an ``h x w`` input: the ceil
    rule, unless the entry has a ``geometry`` and its options leave the rule."""
    op = get(name)
    if op.geometry is None:
        return out_hw(h, w, stride)
    return op.geometry(h, w, stride, **_options(op, options))
