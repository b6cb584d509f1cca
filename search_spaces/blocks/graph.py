"""A block-space spec as a graph, with no torch module built: one node per block ("network"
view) or one per stage, the way MnasNet's Figure 7 and EfficientNet's Table 1 draw it ("stage"
view). Node ``params``/``macs`` sum to the spec's totals in both views.
"""
from __future__ import annotations

import networkx as nx

from search_spaces.base import new_graph

from cells.counting import Cost
from search_spaces.blocks.plan import Part, plan
from search_spaces.blocks.spec import BlockSpec

VIEWS = ("network", "stage")


def _node_attrs(part: Part, spec: BlockSpec) -> dict:
    attrs = {"op": part.op, "label": part.label, "kind": part.kind, "channels": part.chs,
             "height": part.h, "width": part.w, "params": part.cost.params, "macs": part.cost.macs}
    if part.op == "block":
        stage = spec.stages[part.stage - 1]
        attrs.update(stage=part.stage, kernel=stage.kernel, stride=part.stride, expand=stage.expand,
                     se_ratio=stage.se_ratio, act=stage.act,
                     residual=int(stage.skip and part.stride == 1 and part.in_chs == part.chs))
    return attrs


def _stage_nodes(parts: list[Part], spec: BlockSpec) -> list[tuple[str, dict]]:
    """Blocks merged per stage; the label gains the repeat count (MnasNet's "x3")."""
    nodes: list[tuple[str, dict]] = []
    for part in parts:
        if part.op != "block":
            nodes.append((part.name, _node_attrs(part, spec)))
            continue
        stage = spec.stages[part.stage - 1]
        name = f"s{part.stage}"
        if nodes and nodes[-1][0] == name:
            attrs = nodes[-1][1]
            total = Cost(attrs["params"], attrs["macs"]) + part.cost
            attrs.update(params=total.params, macs=total.macs)
            continue
        attrs = _node_attrs(part, spec)
        attrs.update(label=f"{part.label}; x{stage.repeats}", repeats=stage.repeats)
        attrs.pop("residual")
        nodes.append((name, attrs))
    return nodes


def to_graph(spec: BlockSpec, view: str = "network") -> nx.DiGraph:
    if view not in VIEWS:
        raise ValueError(f"block space: view must be one of {VIEWS}, got {view!r}")
    parts = plan(spec)
    total = sum((p.cost for p in parts), Cost())
    g = new_graph("blocks", spec, view, total)
    if view == "network":
        nodes = [(p.name, _node_attrs(p, spec)) for p in parts]
    else:
        nodes = _stage_nodes(parts, spec)
    previous = "input"
    for name, attrs in nodes:
        g.add_node(name, **attrs)
        g.add_edge(previous, name)
        previous = name
    return g
