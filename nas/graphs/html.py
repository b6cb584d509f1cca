"""One self-contained HTML page per inspection: the drawings inline as SVG and a cost table.

Nothing is linked: the SVG markup sits in the page (from ``dot`` or, without it, matplotlib's
SVG backend), so the file can be mailed or attached to a run directory as it is.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import networkx as nx

from nas.graphs.render import details, shape_text

STYLE = """body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:2em}code{word-break:break-all}
table{border-collapse:collapse;font-size:.85em}td,th{padding:2px 8px;border-bottom:1px solid #ddd}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:bold}
figure{margin:1em 0;overflow-x:auto}figcaption{font-size:.85em;color:#555}"""


@dataclass
class Section:
    """One architecture on the page: its title, spec string, drawings and cost graph."""

    title: str
    spec: str
    svgs: list[tuple[str, str]] = field(default_factory=list)  # (caption, svg markup)
    cost_graph: nx.DiGraph | None = None
    notes: list[str] = field(default_factory=list)


def inline_svg(svg: bytes | str) -> str:
    """SVG markup without the XML prolog / DOCTYPE, ready to sit inside HTML."""
    text = svg.decode() if isinstance(svg, bytes) else svg
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return text.strip()


def cost_table(g: nx.DiGraph) -> str:
    """Per-node shape and cost, then the totals, as an HTML table."""
    rows = ["<table><tr><th>node</th><th>label</th><th>output (CxHxW)</th><th>params</th>"
            "<th>MACs</th><th>details</th></tr>"]
    try:
        order = list(nx.topological_sort(g))
    except nx.NetworkXUnfeasible:
        order = list(g.nodes)
    for node in order:
        a = g.nodes[node]
        cells = [str(node), str(a.get("label", a.get("op", ""))), shape_text(a)]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                    + f"<td class=n>{a.get('params', 0):,}</td><td class=n>{a.get('macs', 0):,}</td>"
                    + f"<td>{html.escape(details(a))}</td></tr>")
    rows.append(f"<tr class=total><td>total</td><td></td><td></td>"
                f"<td class=n>{g.graph.get('params', 0):,}</td>"
                f"<td class=n>{g.graph.get('macs', 0):,}</td><td></td></tr></table>")
    return "\n".join(rows)


def page(title: str, sections: list[Section]) -> str:
    parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for sec in sections:
        parts.append(f"<h2>{html.escape(sec.title)}</h2><p><code>{html.escape(sec.spec)}</code></p>")
        parts += [f"<p>{html.escape(n)}</p>" for n in sec.notes]
        for caption, svg in sec.svgs:
            parts.append(f"<figure>{inline_svg(svg)}<figcaption>{html.escape(caption)}"
                         "</figcaption></figure>")
        if sec.cost_graph is not None:
            parts.append(cost_table(sec.cost_graph))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
