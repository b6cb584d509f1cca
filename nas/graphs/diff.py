"""Compare two specs of the same space: the decisions that differ, where they sit in the graph,
and what they cost.

The decision view is the space's own (``space.decisions(spec)`` over ``space.dimensions()``, the
sequence a controller emits), so a diff names exactly the choices a mutation in regularized
evolution (Real et al. 2019) or a controller step would change. The graph view marks a node
'changed' when its op, label, kind, channels, space-specific attributes or inputs differ, and
'cost' when only its parameters / MACs / spatial size moved (e.g. a wider stage upstream).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from cells.counting import Cost

COST_ATTRS = {"params", "macs", "height", "width"}


@dataclass(frozen=True)
class DecisionChange:
    name: str
    a: Any
    b: Any


@dataclass(frozen=True)
class SpecDiff:
    space: str
    changes: tuple[DecisionChange, ...]
    other_fields: tuple[DecisionChange, ...]  # spec fields outside the decision sequence
    cost_a: Cost
    cost_b: Cost
    highlight: dict  # node of graph B -> "changed" | "cost"
    graph_b: nx.DiGraph


def graph_highlight(ga: nx.DiGraph, gb: nx.DiGraph) -> dict:
    """Node of ``gb`` -> 'changed' | 'cost' where it differs from the same-named node of ``ga``."""
    out = {}
    for node, attrs in gb.nodes(data=True):
        if node not in ga:
            out[node] = "changed"
            continue
        old = ga.nodes[node]
        keys = (set(old) | set(attrs)) - COST_ATTRS
        if any(old.get(k) != attrs.get(k) for k in keys) or set(ga.predecessors(node)) != set(gb.predecessors(node)):
            out[node] = "changed"
        elif any(old.get(k) != attrs.get(k) for k in COST_ATTRS):
            out[node] = "cost"
    return out


def _space_name(space) -> str:
    return f"{type(space).__module__}.{type(space).__name__}"


def diff_specs(a: Any, b: Any, *, view: str = "cell") -> SpecDiff:
    """Decision, field, graph and cost differences of ``b`` against ``a``.

    Raises ValueError when the two specs belong to different spaces (or to differently configured
    instances of one space, e.g. other op lists), since their decisions are then incomparable.
    """
    from search_spaces import catalog

    sa, sb = catalog.space_for(a), catalog.space_for(b)
    if type(sa) is not type(sb):
        raise ValueError(f"--diff needs two specs of the same space: A is a {_space_name(sa)} spec, "
                         f"B is a {_space_name(sb)} spec")
    dims = sa.dimensions()
    if tuple(dims) != tuple(sb.dimensions()):
        raise ValueError(f"--diff needs two specs of the same space: A and B come from {sa.name} "
                         "spaces with different decision lists (e.g. another op list or macro setting)")
    da, db = sa.decisions(a), sa.decisions(b)
    changes = tuple(DecisionChange(d.name, d.choices[i], d.choices[j])
                    for d, i, j in zip(dims, da, db) if i != j)
    fa, fb = a.to_dict(), b.to_dict()
    others = tuple(DecisionChange(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb))
                   if fa.get(k) != fb.get(k) and not isinstance(fa.get(k, fb.get(k)), (list, dict)))
    ga, gb = sa.to_graph(a, view=view), sb.to_graph(b, view=view)
    return SpecDiff(sa.name, changes, others, sa.cost(a), sb.cost(b), graph_highlight(ga, gb), gb)


def _pct(new: int, old: int) -> str:
    return f"{(new - old) / old:+.1%}" if old else "n/a"


def diff_text(d: SpecDiff) -> str:
    lines = [f"space {d.space}: {len(d.changes)} decision(s) differ"]
    lines += [f"  {c.name}: {c.a} -> {c.b}" for c in d.changes]
    if d.other_fields:
        lines.append("other spec fields differ:")
        lines += [f"  {c.name}: {c.a} -> {c.b}" for c in d.other_fields]
    if not d.changes and not d.other_fields:
        lines.append("  (the specs are identical)")
    a, b = d.cost_a, d.cost_b
    lines.append(f"params {a.params:,} -> {b.params:,} ({b.params - a.params:+,}, {_pct(b.params, a.params)})")
    lines.append(f"MACs   {a.macs:,} -> {b.macs:,} ({b.macs - a.macs:+,}, {_pct(b.macs, a.macs)})")
    changed = sorted(str(n) for n, lvl in d.highlight.items() if lvl == "changed")
    if changed:
        lines.append(f"nodes changed in B's {d.graph_b.graph.get('view', '')} graph: {', '.join(changed)}")
    return "\n".join(lines) + "\n"
