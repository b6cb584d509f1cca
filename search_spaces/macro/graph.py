"""A macro-space spec as a graph, with no torch module built: one node per block ("network" view)
or one per stage, labelled the way the papers' architecture tables write a stage ("stage" view:
He et al. 2016 Table 1's "[1x1, 64; 3x3, 64; 1x1, 256] x 3", Simonyan & Zisserman's "conv3-256",
Sandler et al.'s "bottleneck t=6 c=24 n=2 s=2"). Node ``params``/``macs`` sum to the spec's totals in
both views.
"""
from __future__ import annotations

import networkx as nx

from search_spaces.base import new_graph

from cells.counting import Cost
from cells.dpn import widths as dual_path_widths
from cells.residual import bottleneck_width
from search_spaces.macro.plan import Part, plan
from search_spaces.macro.spec import MacroSpec, Stage

VIEWS = ("network", "stage")


def _k(o: dict, name: str = "kernel", default: int = 3) -> str:
    k = o.get(name, default)
    return f"{k}x{k}"


def block_label(stage: Stage, first: Part) -> str:
    """One block of ``stage`` in the papers' notation."""
    o, c = first.option_dict(), first.chs
    op = stage.op
    if op == "conv":
        return f"{_k(o)} conv, {c}" + (f", stride {stage.stride}" if stage.stride != 1 else "")
    if op in ("maxpool", "avgpool"):
        return f"{_k(o)} {op[:3]} pool, stride {stage.stride}"
    if op == "bottleneck" or op == "resnext_block":
        groups = o.get("groups", 1 if op == "bottleneck" else 32)
        mid = bottleneck_width(op, c, groups, o.get("base_width", 64 if op == "bottleneck" else 4), o.get("width"))
        return f"[1x1, {mid}; 3x3, {mid}" + (f", C={groups}" if groups > 1 else "") + f"; 1x1, {c}]"
    if op == "basic_block":
        return f"[3x3, {c}; 3x3, {c}]"
    if op == "dense_layer":
        return f"[1x1 conv; 3x3 conv], k={c - first.in_chs}"
    if op == "dual_path_block":  # Chen et al. 2017, Table 1: "[1x1, 96; 3x3, 96, G=32; 1x1, 256 (+16)]"
        g = o.get("groups", 32)
        d = dual_path_widths(first.in_chs, c, first.stride, o.get("residual_chs"), o.get("growth"), g,
                             o.get("bottleneck"), o.get("project", False))
        return f"[1x1, {d.bottleneck}; 3x3, {d.bottleneck}, G={g}; 1x1, {d.residual} (+{d.growth})]"
    if op == "mbconv":
        return f"bottleneck t={o.get('expand', 1)} k={o.get('kernel', 3)}, {c}"
    extra = " ".join(f"{k}={v}" for k, v in sorted(o.items()))
    return f"{op}, {c}" + (f" ({extra})" if extra else "")


def _attrs(part: Part, label: str) -> dict:
    return {"op": part.op, "label": label, "kind": "block" if part.stage else "head", "channels": part.chs,
            "height": part.h, "width": part.w, "params": part.cost.params, "macs": part.cost.macs}


def to_graph(spec: MacroSpec, view: str = "network") -> nx.DiGraph:
    if view not in VIEWS:
        raise ValueError(f"macro space: view must be one of {VIEWS}, got {view!r}")
    parts = plan(spec)
    total = sum((p.cost for p in parts), Cost())
    g = new_graph("macro", spec, view, total)
    nodes: list[tuple[str, dict]] = []
    for part in parts:
        if not part.stage:
            label = f"FC {part.chs}" if part.op != "classifier" else f"classifier {part.chs}"
            nodes.append((part.name, _attrs(part, label)))
            continue
        stage = spec.stages[part.stage - 1]
        name = f"s{part.stage}" if view == "stage" else part.name
        if view == "stage" and nodes and nodes[-1][0] == name:
            attrs = nodes[-1][1]
            cost = Cost(attrs["params"], attrs["macs"]) + part.cost
            attrs.update(params=cost.params, macs=cost.macs, channels=part.chs, height=part.h, width=part.w)
            continue
        label = block_label(stage, part)
        if view == "stage" and stage.repeats > 1:
            label += f" x {stage.repeats}"
        nodes.append((name, {**_attrs(part, label), "stage": part.stage}))
    previous = "input"
    for name, attrs in nodes:
        g.add_node(name, **attrs)
        g.add_edge(previous, name)
        previous = name
    return g
