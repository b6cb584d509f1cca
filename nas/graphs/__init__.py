"""Drawings and tables of architecture graphs (``nas inspect``, ``nas report``).

Everything here starts from a spec's ``to_graph`` (networkx, no torch) and its analytic cost; no
module is ever built. ``render`` serializes (DOT / GraphML / JSON), ``dot`` makes SVG/PNG through
Graphviz with ``mpl`` as the fallback, ``text`` and ``html`` present, ``diff`` compares two specs.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import networkx as nx

from nas.graphs.dot import FALLBACK_NOTE, Drawing, draw, find_dot

__all__ = ["Drawing", "FALLBACK_NOTE", "cell_drawings", "draw", "drawing_view", "find_dot", "graph_of"]


def graph_of(spec: Any, view: str) -> nx.DiGraph:
    """The spec's graph in ``view`` from the space that owns it: 'network' everywhere, 'cell' for
    cell spaces, 'stage' for the block space; the space names the views it has when asked for
    another."""
    from search_spaces import catalog

    return catalog.space_for(spec).to_graph(spec, view=view)


def drawing_view(spec: Any) -> str:
    """The view that shows what a search chose: 'cell' for cell spaces, 'stage' for the block
    space (MnasNet's per-stage figure), else 'network'."""
    for view in ("cell", "stage"):
        try:
            graph_of(spec, view)
            return view
        except ValueError:  # the space has no such view
            continue
    return "network"


def cell_drawings(spec: Any, out_dir: str | Path, *, dot: str | bool | None = True) -> list[Path]:
    """Draw the spec's cells into ``out_dir``: one file per cell kind (normal, reduce), SVG via
    Graphviz ``dot`` or PNG via matplotlib where ``dot`` is absent. Spaces without cells (the
    block space) draw their stage view (MnasNet's figure) instead. Returns the written paths.

    File names start with a hash of the spec string, so several top architectures share a folder.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    view = drawing_view(spec)
    g = graph_of(spec, view)
    fmt = "svg" if (find_dot() if dot is True else dot) else "png"
    stem = hashlib.sha1(str(g.graph.get("spec", spec)).encode()).hexdigest()[:10]
    cells: dict[str, list] = {}
    for node, attrs in g.nodes(data=True):
        key = attrs.get("cell") if view == "cell" else None
        cells.setdefault(str(key or view), []).append(node)
    paths = []
    for name, nodes in cells.items():
        sub = g.subgraph(nodes).copy()
        title = f"{name} cell" if view == "cell" else None
        drawing = draw(sub, fmt, dot=dot, title=title)
        path = out_dir / f"{stem}-{name}.{drawing.fmt}"
        path.write_bytes(drawing.data)
        paths.append(path)
    return paths
