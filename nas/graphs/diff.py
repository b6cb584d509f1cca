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
    changes: tuple[DecisionChange, ...]  # decision-sequence differences (empty if not comparable)
    other_fields: tuple[DecisionChange, ...]  # spec fields that differ outside those decisions
    cost_a: Cost
    cost_b: Cost
    highlight: dict  # node of graph B -> "changed" | "cost"
    graph_b: nx.DiGraph
    note: str = ""  # why the decisions could not be compared, when they could not


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


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """A spec's JSON form as dotted paths to scalars: ``normal.blocks[2].ops[1]``."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, (list, tuple)):
        out = {}
        for i, value in enumerate(data):
            out.update(flatten(value, f"{prefix}[{i}]"))
        return out
    return {prefix: data}


def _decision_changes(space, a: Any, b: Any) -> tuple[DecisionChange, ...]:
    dims = space.dimensions()
    da, db = space.decisions(a), space.decisions(b)
    return tuple(DecisionChange(d.name, d.choices[i], d.choices[j])
                 for d, i, j in zip(dims, da, db) if i != j)


def diff_specs(a: Any, b: Any, *, view: str = "cell") -> SpecDiff:
    """Decision, field, graph and cost differences of ``b`` against ``a``.

    Raises ValueError when the two specs belong to different spaces. Two specs of one space whose
    decision sequences cannot be compared (a named architecture outside the configured search
    space, e.g. EfficientNet-B0's swish stem in the MnasNet space, or DARTS's 4-block cells
    against NASNet's 5) are compared field by field instead, and ``note`` says why.
    """
    from search_spaces import catalog

    sa, sb = catalog.space_for(a), catalog.space_for(b)
    if type(sa) is not type(sb):
        raise ValueError(f"--diff needs two specs of the same space: A is a {_space_name(sa)} spec, "
                         f"B is a {_space_name(sb)} spec")
    fa, fb = flatten(a.to_dict()), flatten(b.to_dict())
    fields = tuple(DecisionChange(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb), key=_natural)
                   if fa.get(k) != fb.get(k))
    changes, note = (), ""
    try:
        if tuple(sa.dimensions()) != tuple(sb.dimensions()):
            raise ValueError("the two specs configure different decision lists")
        changes = _decision_changes(sa, a, b)
        # fields the decisions do not cover (macro settings such as classes or resolution)
        fields = tuple(f for f in fields if not _covered(f.name, changes))
    except ValueError as err:
        note = f"decision sequences not comparable ({err}); comparing spec fields"
    ga, gb = sa.to_graph(a, view=view), sb.to_graph(b, view=view)
    return SpecDiff(sa.name, changes, fields, sa.cost(a), sb.cost(b), graph_highlight(ga, gb), gb, note)


def _natural(key: str) -> list:
    """Sort paths with numbers in numeric order (blocks[10] after blocks[9])."""
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)]


def _covered(field: str, changes: tuple[DecisionChange, ...]) -> bool:
    """Whether a differing JSON field belongs to a cell or stage a differing decision names
    (e.g. field ``normal.blocks[3].ops[1]`` under decision ``normal.b3.op2``)."""
    import re

    m = re.match(r"(?:(\w+)\.)?(?:blocks|stages)\[(\d+)\]", field)  # top-level "stages[i]" too
    if m is None:
        return False
    prefixes = (f"stage{int(m.group(2)) + 1}.",) + ((f"{m.group(1)}.b{m.group(2)}.",) if m.group(1) else ())
    return any(c.name.startswith(prefixes) for c in changes)


def _pct(new: int, old: int) -> str:
    return f"{(new - old) / old:+.1%}" if old else "n/a"


def diff_title(d: SpecDiff, a: str, b: str) -> str:
    """A drawing's title: what is compared, how much differs, what it costs."""
    what = f"{len(d.changes)} decision(s)" if not d.note else f"{len(d.other_fields)} spec field(s)"
    return (f"{b} against {a}: {what} differ (red; orange dashed: cost only)\n"
            f"params {d.cost_b.params - d.cost_a.params:+,} ({_pct(d.cost_b.params, d.cost_a.params)}), "
            f"MACs {d.cost_b.macs - d.cost_a.macs:+,} ({_pct(d.cost_b.macs, d.cost_a.macs)})")


def diff_text(d: SpecDiff) -> str:
    if d.note:
        lines = [f"space {d.space}: {d.note}"]
    else:
        lines = [f"space {d.space}: {len(d.changes)} decision(s) differ"]
        lines += [f"  {c.name}: {c.a} -> {c.b}" for c in d.changes]
    if d.other_fields:
        lines.append(f"{len(d.other_fields)} spec field(s) differ{'' if d.note else ' outside the decisions'}:")
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
