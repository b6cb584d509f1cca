"""Compact terminal tables of an architecture graph (``nas inspect --format text``).

Network view: one row per stem / cell / block / head node with its output shape (C x H x W),
parameters and MACs, then the totals. Cell view: one table per cell, a row per node in
topological order with the nodes it reads, so a block reads like the papers' captions
("sep 3x3 (h_{i-1}) + avg 3x3 (h_i) -> add").
"""
from __future__ import annotations

from typing import Mapping

import networkx as nx

from nas.graphs.render import details, groups, shape_text

MARKS = {"changed": "*", "cost": "~"}


def _rows_table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

    def fmt(row):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()

    return [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]


def _order(g: nx.DiGraph, nodes: list) -> list:
    """Topological, ties broken by the space's insertion order (block by block)."""
    rank = {n: i for i, n in enumerate(nodes)}
    try:
        return list(nx.lexicographical_topological_sort(g.subgraph(nodes), key=rank.__getitem__))
    except nx.NetworkXUnfeasible:
        return nodes


def _short(node, group: str) -> str:
    return str(node).split("/", 1)[1] if group and "/" in str(node) else str(node)


def _names(g: nx.DiGraph, nodes: list, group: str) -> dict:
    """How a row refers to its inputs: cell inputs by their label (h[i-1]), the rest by id."""
    return {n: str(g.nodes[n].get("label", n)) if g.nodes[n].get("op") == "input" else _short(n, group)
            for n in nodes}


def table(g: nx.DiGraph, *, highlight: Mapping | None = None) -> str:
    """The whole graph as text: a title line, one table per group, totals."""
    highlight = dict(highlight or {})
    a = g.graph
    view = str(a.get("view", ""))
    lines = [f"{a.get('space', '?')} [{view} view] {a.get('spec', '')}"]
    with_details = any(details(attrs) for _, attrs in g.nodes(data=True))
    for name, nodes in groups(g).items():
        header = ["", "node", "label", "inputs" if view == "cell" else "output (CxHxW)",
                  "params", "MACs"] + (["details"] if with_details else [])
        rows = []
        names = _names(g, nodes, name)
        for node in _order(g, nodes):
            attrs = g.nodes[node]
            short = _short(node, name)
            if view == "cell":
                third = ", ".join(names.get(p, str(p)) for p in g.predecessors(node))
            else:
                third = shape_text(attrs)
            row = [MARKS.get(highlight.get(node), ""), short, str(attrs.get("label", attrs.get("op", ""))),
                   third, f"{attrs.get('params', 0):,}", f"{attrs.get('macs', 0):,}"]
            rows.append(row + ([details(attrs)] if with_details else []))
        if name:
            lines += ["", f"{name} cell"]
        lines += _rows_table(header, rows, right={4, 5})
    lines += ["", f"total: params {a.get('params', 0):,}  MACs {a.get('macs', 0):,}"]
    if view == "cell":
        lines.append("(cell rows: shapes and costs of the first cell of each kind; total: the whole network)")
    if highlight:
        lines.append("* a decision differs here   ~ only the cost differs")
    return "\n".join(lines) + "\n"
