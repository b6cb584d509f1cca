"""The search report's drawings of its top architectures (a ``nas.report`` extra section).

``nas report`` lists the best specs as strings; this section draws them the way the NASNet and
DARTS papers present a search result: the normal and the reduction cell of each top
architecture (a block spec's stages), from the spec alone, with its analytic cost.
"""
from __future__ import annotations

import html
from pathlib import Path

from nas.graphs import cell_drawings
from nas.graphs.html import inline_svg

TOP_K = 3


def cell_drawings_section(run, out: Path, k: int = TOP_K) -> str | None:
    """HTML for ``nas.report.write_report(extra_sections=...)``: the cells of the top ``k``
    scored trials, SVG inline (node tooltips work) or PNG files beside the page. Specs no space
    can parse (e.g. a toy space of the tests) are skipped; nothing to draw gives no section."""
    from search_spaces import catalog

    parts = []
    for rank, trial in enumerate(run.top(k), start=1):
        try:
            spec = catalog.resolve(trial.spec)
        except (ValueError, TypeError, KeyError):
            continue
        cost = catalog.space_for(spec).cost(spec)
        figures = []
        for path in cell_drawings(spec, out / "cells"):
            if path.suffix == ".svg":
                figures.append(f"<figure style='overflow-x:auto;margin:0'>{inline_svg(path.read_text())}</figure>")
            else:
                figures.append(f"<img src='cells/{path.name}' alt='{html.escape(path.stem)}'>")
        parts.append(f"<h3>#{rank}: trial {trial.candidate_id}, reward {trial.reward:.4f}, "
                     f"{cost.params:,} params, {cost.macs:,} MACs</h3>" + "".join(figures))
    if not parts:
        return None
    return "<h2>Top architectures drawn</h2>" + "\n".join(parts)
