"""The latency units of a network, read from its space's shape plan (pure, no torch).

A *unit* is one (op, shape) the plan lists: a registry op with its channels, stride and input
size, a stem, a reduction block, a combiner, the classifier tail. OFA (Cai et al. 2020) sums the
latencies of such units, profiled once on the target, to predict a network's latency; here the
units come from the plans the builders themselves follow (``search_spaces.cell.plan``,
``search_spaces.blocks.plan``, ``search_spaces.nasbench201.plan``), so the LUT prices exactly
the modules a spec builds. ``units(spec)`` is all a prediction needs; ``nas.latency.profile``
turns each unit into a module and times it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Unit:
    """``kind`` names the module family, ``args`` its shape (plain hashable values)."""

    kind: str
    args: tuple

    @property
    def key(self) -> str:
        """The LUT's key: stable text, e.g. ``op:conv_3x3,16,16,1,32,False``."""
        return f"{self.kind}:" + ",".join(_text(a) for a in self.args)


def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ",".join(_text(v) for v in value) + ")"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def units(spec: Any, space: Any = None) -> list[Unit]:
    """Every unit of ``spec``'s network in forward order (repeats included: the LUT sums them).
    ``space`` (the spec's own, found in the catalog when None) resolves a compound spec."""
    from search_spaces.blocks.spec import BlockSpec
    from search_spaces.cell.spec import CellSpec
    from search_spaces.nasbench201.spec import NB201Spec
    if space is None:
        from search_spaces.catalog import space_for
        space = space_for(spec)
    net = space.network(spec)
    if isinstance(net, CellSpec):
        return cell_units(net)
    if isinstance(net, BlockSpec):
        return block_units(net)
    if isinstance(net, NB201Spec):
        return nb201_units(net)
    raise TypeError(f"latency units: no plan reader for {type(net).__name__} specs; accepted: "
                    "cell, blocks, nasbench201 and compound specs")


def _op(use: Any) -> Unit:
    return Unit("op", (use.name, use.in_chs, use.out_chs, use.stride, use.size, use.project))


def cell_units(spec: Any) -> list[Unit]:
    """NASNet / DARTS cell networks: stems, each cell's preprocessing, ops, combiners and
    concatenation adapters, then the pooled classifier."""
    from search_spaces.cell.plan import plan_network
    plan = plan_network(spec)
    out = [Unit("cell_stem", tuple((c.in_chs, c.out_chs, c.kernel, c.stride, c.padding, c.size,
                                    c.relu_before, c.relu_after) for c in s.convs)) for s in plan.stems]
    for cell in plan.cells:
        out += [_op(u) for u in cell.preps]
        for block, pair in zip(cell.cell.blocks, cell.ops):
            out += [_op(u) for u in pair]
            kind = "cat" if block.combiner == "concat" else "add"
            out.append(Unit(kind, (pair[0].out_chs, pair[0].out_size)))
        out += [_op(u) for u in cell.adapters]
        out.append(Unit("cell_concat", (tuple(a.out_chs for a in cell.adapters), cell.states[-1].size)))
    feats = plan.features
    out.append(Unit("cell_tail", (spec.wiring == "nasnet", feats.chs, feats.size, spec.num_classes)))
    return out


def block_units(spec: Any) -> list[Unit]:
    """MnasNet / EfficientNet block networks: stem, every block with its stage's options, head,
    pooled classifier."""
    from search_spaces.blocks.plan import plan
    parts = plan(spec)
    out, size = [], spec.resolution
    for part in parts:
        if part.op in ("stem", "head"):
            opts = part.option_dict()
            out.append(Unit("conv_bn_act", (part.in_chs, part.chs, part.stride, opts["kernel"], opts["act"], size)))
        elif part.op == "block":
            s = spec.stages[part.stage - 1]
            out.append(Unit("block", (s.op, s.expand, s.kernel, float(s.se_ratio), s.act, bool(s.skip),
                                      part.in_chs, part.chs, part.stride, size)))
        elif part.op == "output":
            out.append(Unit("block_tail", (spec.head, size, spec.num_classes)))
        size = part.h if part.op != "pool" else size
    return out


def nb201_units(spec: Any) -> list[Unit]:
    """NAS-Bench-201: stem, the 6 edge ops of every cell, the residual reductions, the tail."""
    from search_spaces.nasbench201.plan import layers
    from search_spaces.nasbench201.spec import CELL_OPS
    out, size = [], spec.resolution
    for layer in layers(spec):
        kind, chs = layer["kind"], layer["channels"]
        if kind == "stem":
            out.append(Unit("nb201_stem", (chs, size)))
        elif kind == "reduction":
            out.append(Unit("nb201_reduce", (chs // 2, chs, size)))
        elif kind == "normal":
            out += [Unit("op", (CELL_OPS[op], chs, chs, 1, size, False)) for op in spec.ops]
        elif kind == "pool":
            out.append(Unit("nb201_tail", (chs, size, spec.num_classes)))
        if layer["height"] > 1:
            size = layer["height"]
    return out
