"""A layered matplotlib drawing of an architecture graph, for machines without Graphviz.

Layers are the graph's topological generations (a Sugiyama-style layering without the crossing
optimisation Graphviz does); within a layer nodes are ordered by the mean position of their
predecessors, which untangles the cells' two-input blocks well enough to read. Cell views put
the normal and the reduction cell side by side and grow upwards like the NASNet figures.
Uses ``matplotlib.figure.Figure`` directly (no pyplot state, no display backend needed).
"""
from __future__ import annotations

import io
from typing import Mapping

import networkx as nx
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from nas.graphs.render import HIGHLIGHT_COLORS, display_label, fill_of, groups, title_of

MAX_INCHES = 60.0
CHAR_INCH, LINE_INCH = 0.07, 0.16  # 8-point text: about 0.07 inch a character, 0.16 a line


def _layers(sub: nx.DiGraph) -> list[list]:
    """Layers by longest path from the inputs, then each inner node pulled up to just below its
    first consumer (inputs stay at the bottom), so an op sits beside the combiner it feeds."""
    try:
        order = list(nx.topological_sort(sub))
    except nx.NetworkXUnfeasible as err:
        raise ValueError("architecture graph has a cycle; cannot draw it in layers") from err
    level: dict = {}
    for node in order:
        level[node] = max((level[p] + 1 for p in sub.predecessors(node)), default=0)
    for node in reversed(order):
        succ = list(sub.successors(node))
        if succ and sub.in_degree(node) > 0:
            level[node] = max(level[node], min(level[s] for s in succ) - 1)
    layers: list[list] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for node in order:
        layers[level[node]].append(node)
    layers = [layer for layer in layers if layer]
    _reduce_crossings(sub, layers)
    return layers


def _reduce_crossings(sub: nx.DiGraph, layers: list[list], sweeps: int = 4) -> None:
    """Barycentre heuristic (Sugiyama et al. 1981): alternately order each layer by the mean
    position of its predecessors (upward sweep) and of its successors (downward sweep), so a
    block's two ops end up beside each other under their combiner."""
    pos = {n: i - (len(layer) - 1) / 2 for layer in layers for i, n in enumerate(layer)}
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        neighbours = sub.predecessors if forward else sub.successors
        for layer in (layers if forward else layers[::-1]):
            def key(node):
                xs = [pos[m] for m in neighbours(node)]
                return sum(xs) / len(xs) if xs else pos[node]
            layer.sort(key=key)  # stable: ties keep the current order
            for i, node in enumerate(layer):
                pos[node] = i - (len(layer) - 1) / 2


def _spacing(g: nx.DiGraph) -> tuple[float, float]:
    """Inches between node centres across (the widest label) and up (the tallest label)."""
    view = str(g.graph.get("view", ""))
    labels = [display_label(a, view, n).split("\n") for n, a in g.nodes(data=True)] or [[""]]
    widest = max(len(line) for lines in labels for line in lines)
    tallest = max(len(lines) for lines in labels)
    return widest * CHAR_INCH + 0.5, tallest * LINE_INCH + 0.5


def layout(g: nx.DiGraph) -> tuple[dict, list[tuple[str, float, float]], tuple[float, float]]:
    """Node -> (x, y) in inches, (group name, x centre, top y) for the group titles, spacing."""
    upward = g.graph.get("view") == "cell"
    dx, dy = _spacing(g)
    pos: dict = {}
    titles = []
    x0 = 0.0
    for name, nodes in groups(g).items():
        layers = _layers(g.subgraph(nodes))
        width = max(len(layer) for layer in layers)
        for depth, layer in enumerate(layers):
            for i, node in enumerate(layer):
                x = x0 + (width - 1) / 2 * dx + (i - (len(layer) - 1) / 2) * dx
                pos[node] = (x, depth * dy if upward else -depth * dy)
        if name:
            titles.append((f"{name} cell", x0 + (width - 1) / 2 * dx,
                           (len(layers) - 1) * dy + dy / 2 if upward else dy / 2))
        x0 += width * dx + dx / 2
    return pos, titles, (dx, dy)


def _border(centre, half, toward) -> tuple[float, float]:
    """Where the segment from a box's centre to ``toward`` leaves the box."""
    (cx, cy), (hx, hy) = centre, half
    vx, vy = toward[0] - cx, toward[1] - cy
    t = min(hx / abs(vx) if vx else float("inf"), hy / abs(vy) if vy else float("inf"), 1.0)
    return cx + vx * t, cy + vy * t


def draw_layered(g: nx.DiGraph, fmt: str, *, highlight: Mapping | None = None,
                 title: str | None = None) -> bytes:
    """PNG or SVG bytes; text stays text in SVG so labels remain searchable."""
    highlight = dict(highlight or {})
    pos, titles, (dx, dy) = layout(g)
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    x_lo, x_hi, y_lo, y_hi = min(xs) - dx / 2, max(xs) + dx / 2, min(ys) - dy / 2, max(ys) + dy
    scale = min(1.0, MAX_INCHES / max(x_hi - x_lo, y_hi - y_lo))  # huge networks: shrink to fit
    view = str(g.graph.get("view", ""))
    with rc_context({"svg.fonttype": "none", "font.size": 8 * max(scale, 0.5)}):
        fig = Figure(figsize=((x_hi - x_lo) * scale, (y_hi - y_lo) * scale), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(y_lo, y_hi)
        texts = {}
        for node, attrs in g.nodes(data=True):
            level = highlight.get(node)
            box = dict(boxstyle="round,pad=0.4", fc=fill_of(attrs),
                       ec=HIGHLIGHT_COLORS[level] if level else "#333333",
                       lw=2.5 if level else 0.8, ls="--" if level == "cost" else "-")
            texts[node] = ax.text(*pos[node], display_label(attrs, view, node), ha="center",
                                  va="center", zorder=2, bbox=box, gid=f"node-{node}")
        # Lay the text out once to learn each box's size, then end every arrow on the boxes'
        # borders (data coordinates survive savefig's tight-bbox pass; display ones do not).
        FigureCanvasAgg(fig).draw()
        inv = ax.transData.inverted()
        half = {}
        for node, text in texts.items():
            bb = text.get_bbox_patch().get_window_extent()
            (x0, y0), (x1, y1) = inv.transform([[bb.x0, bb.y0], [bb.x1, bb.y1]])
            half[node] = (abs(x1 - x0) / 2 + 0.02, abs(y1 - y0) / 2 + 0.02)
        for u, v in g.edges():
            span = abs(pos[v][1] - pos[u][1]) / dy
            # edges that skip layers bow out so they do not run through the nodes they pass
            bend = 0.0 if span < 1.5 else (0.3 if pos[v][0] >= pos[u][0] else -0.3)
            ax.add_patch(FancyArrowPatch(_border(pos[u], half[u], pos[v]), _border(pos[v], half[v], pos[u]),
                                         arrowstyle="-|>", mutation_scale=9, color="#555555", lw=0.8,
                                         zorder=1, shrinkA=0, shrinkB=0,
                                         connectionstyle=f"arc3,rad={bend}"))
        for text, x, y in titles:
            ax.text(x, y, text, ha="center", va="bottom", fontsize=10, fontweight="bold")
        fig.suptitle(title or title_of(g), fontsize=9, y=1.0, va="bottom")
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, bbox_inches="tight", facecolor="white")
    return buf.getvalue()
