"""Serialize an architecture graph to DOT, GraphML and JSON node-link form.

The graphs come from the spaces' ``to_graph(spec, view=...)`` (the graph contract in the common
brief): a ``networkx.DiGraph`` with ``space``/``spec``/``view``/``params``/``macs`` graph
attributes and scalar node attributes (``op``, ``label``, ``kind``, ``channels``, ``height``,
``width``, ``params``, ``macs``; cell-view nodes also ``cell``). The cell drawings follow the
NASNet paper's figures (Zoph et al. 2018, Fig. 4: hidden-state inputs at the bottom, each block's
two operations feeding a combiner, the unused hidden states concatenated at the top), with the
normal and the reduction cell side by side as DOT clusters.
"""
from __future__ import annotations

from typing import Mapping

import networkx as nx

# Highlight levels used by diffs: "changed" (a decision differs there), "cost" (only its cost moved).
HIGHLIGHT_COLORS = {"changed": "#d62728", "cost": "#ff7f0e"}

FILLS = {
    "input": "#cfe2ff", "output": "#e2e3e5", "add": "#fff3bf", "concat": "#ffd8a8",
    "stem": "#cfe2ff", "pool": "#e2e3e5", "head": "#e2e3e5", "block": "#e5dbff",
    "normal": "#d3f9d8", "reduce": "#ffd6d6",
}
ROUND_OPS = {"input", "output", "add"}
STANDARD_ATTRS = {"op", "label", "kind", "channels", "height", "width", "params", "macs", "cell"}


def human(n: float) -> str:
    """Compact count: 1.23M, 45.6K, 789."""
    n = float(n)
    for unit, div in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.3g}{unit}"
    return f"{n:.0f}"


def shape_text(attrs: Mapping) -> str:
    """Output shape as channels x H x W (the issue's C x H x W), or '' when unknown."""
    dims = [attrs.get(k) for k in ("channels", "height", "width")]
    return "x".join(str(d) for d in dims) if all(d is not None for d in dims) else ""


def details(attrs: Mapping) -> str:
    """Space-specific extra attributes (kernel, expansion, SE, skip, ...) as ``k=v`` pairs."""
    return " ".join(f"{k}={v}" for k, v in attrs.items() if k not in STANDARD_ATTRS)


def tooltip(node, attrs: Mapping) -> str:
    parts = [f"{node}", f"op={attrs.get('op', '?')}"]
    if shape_text(attrs):
        parts.append(f"out {shape_text(attrs)}")
    parts.append(f"params {attrs.get('params', 0):,}")
    parts.append(f"MACs {attrs.get('macs', 0):,}")
    if details(attrs):
        parts.append(details(attrs))
    return " | ".join(parts)


def display_label(attrs: Mapping, view: str, node) -> str:
    """Text inside a drawn node: the paper-style label; network nodes add shape and cost."""
    label = str(attrs.get("label", attrs.get("op", node)))
    if view != "network":
        return label
    lines = [label]
    if details(attrs):
        lines.append(details(attrs))
    if shape_text(attrs):
        lines.append(shape_text(attrs))
    if attrs.get("params") or attrs.get("macs"):
        lines.append(f"{human(attrs.get('params', 0))} params, {human(attrs.get('macs', 0))} MACs")
    return "\n".join(lines)


def fill_of(attrs: Mapping) -> str:
    for key in (attrs.get("kind"), attrs.get("op"), attrs.get("cell")):
        if key in FILLS:
            return FILLS[key]
    return "#ffffff"


def title_of(g: nx.DiGraph) -> str:
    a = g.graph
    spec = str(a.get("spec", ""))
    spec = spec if len(spec) <= 90 else spec[:87] + "..."
    head = f"{a.get('space', '?')} ({a.get('view', '?')} view): {spec}"
    return f"{head}\nparams {a.get('params', 0):,}  MACs {a.get('macs', 0):,}"


def groups(g: nx.DiGraph) -> dict[str, list]:
    """Nodes by cell ('normal'/'reduce') for cell views, one unnamed group otherwise (network
    views may tag cell nodes with ``cell`` too; they are still one chain)."""
    by_cell = g.graph.get("view") == "cell"
    out: dict[str, list] = {}
    for node, attrs in g.nodes(data=True):
        out.setdefault(str(attrs.get("cell", "")) if by_cell else "", []).append(node)
    return out


def _q(value) -> str:
    """A DOT double-quoted string; newlines become DOT's centred line breaks."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _node_line(node, attrs: Mapping, view: str, highlight: Mapping) -> str:
    op = attrs.get("op")
    style = ["filled"] + (["rounded"] if op not in ROUND_OPS else [])
    props = {
        "label": display_label(attrs, view, node), "tooltip": tooltip(node, attrs),
        "shape": "ellipse" if op in ROUND_OPS else "box", "style": ",".join(style),
        "fillcolor": fill_of(attrs),
    }
    level = highlight.get(node)
    if level:
        props.update(color=HIGHLIGHT_COLORS[level], penwidth=3)
        if level == "cost":
            props["style"] += ",dashed"
    return f"    {_q(node)} [" + ", ".join(f"{k}={_q(v)}" for k, v in props.items()) + "];"


def to_dot(g: nx.DiGraph, *, highlight: Mapping | None = None, title: str | None = None) -> str:
    """DOT text; ``highlight`` maps node -> 'changed' | 'cost' (see ``nas.graphs.diff``)."""
    highlight = dict(highlight or {})
    unknown = [n for n in highlight if n not in g]
    if unknown:
        raise ValueError(f"highlight names nodes not in the graph: {unknown[:5]}")
    view = str(g.graph.get("view", ""))
    # The NASNet figures grow upwards from the hidden states; networks read top to bottom.
    rankdir = "BT" if view == "cell" else "TB"
    lines = [f"digraph {_q(g.graph.get('space', 'arch'))} {{",
             f"  graph [rankdir={rankdir}, label={_q(title or title_of(g))}, labelloc=t, "
             'fontname="Helvetica", nodesep=0.25, ranksep=0.35];',
             '  node [fontname="Helvetica", fontsize=11];', '  edge [arrowsize=0.7];']
    for name, nodes in groups(g).items():
        indent = ""
        if name:
            lines.append(f"  subgraph {_q('cluster_' + name)} {{")
            lines.append(f"    label={_q(name + ' cell')}; style=rounded; color=\"#888888\";")
            indent = "  "
        lines.extend(indent + _node_line(n, g.nodes[n], view, highlight) for n in nodes)
        if name:
            lines.append("  }")
    for u, v, attrs in g.edges(data=True):
        extra = f" [label={_q(attrs['label'])}]" if "label" in attrs else ""
        lines.append(f"  {_q(u)} -> {_q(v)}{extra};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def check_scalar_attrs(g: nx.DiGraph) -> None:
    """GraphML holds scalars only; name the first offending attribute instead of failing deep."""
    for node, attrs in g.nodes(data=True):
        for key, value in attrs.items():
            if not isinstance(value, (str, int, float)):
                raise TypeError(f"node {node!r} attribute {key!r} is {type(value).__name__} "
                                f"({value!r}); the graph contract allows str/int/float only")
    for key, value in g.graph.items():
        if not isinstance(value, (str, int, float)):
            raise TypeError(f"graph attribute {key!r} is {type(value).__name__}; "
                            "the graph contract allows str/int/float only")


def to_graphml(g: nx.DiGraph) -> str:
    check_scalar_attrs(g)
    return "\n".join(nx.generate_graphml(g)) + "\n"


def read_graphml(path) -> nx.DiGraph:
    """Inverse of ``to_graphml``: networkx's reader minus the defaults bookkeeping it adds."""
    g = nx.read_graphml(path)
    g.graph.pop("node_default", None)
    g.graph.pop("edge_default", None)
    return g


def to_json(g: nx.DiGraph) -> dict:
    """The node-link graph plus the headline figures (spec string, params, MACs) at the top."""
    return {"space": g.graph.get("space"), "spec": g.graph.get("spec"), "view": g.graph.get("view"),
            "params": g.graph.get("params"), "macs": g.graph.get("macs"),
            "graph": nx.node_link_data(g, edges="edges")}
