"""Images of architecture graphs: Graphviz ``dot`` when it is installed, else matplotlib.

``dot`` lays out the cells the way the NASNet/DARTS papers' figures look (the DARTS reference
code draws its genotypes with graphviz too); its SVG keeps each node's ``tooltip``, so hovering
a node shows its op, output shape and cost. Where ``dot`` is absent, ``nas.graphs.mpl`` draws a
layered picture instead and the caller is told so in one line.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import Mapping

import networkx as nx

from nas.graphs.render import to_dot

IMAGE_FORMATS = ("svg", "png")


@dataclass(frozen=True)
class Drawing:
    data: bytes
    fmt: str
    via: str  # "dot" or "matplotlib"


FALLBACK_NOTE = ("note: Graphviz 'dot' not found on PATH; drew with matplotlib instead "
                 "(install graphviz for the papers' cell layout and SVG tooltips)")


def find_dot(search_path: str | None = None) -> str | None:
    """Path of the ``dot`` executable on ``search_path`` (default: the PATH environment)."""
    return shutil.which("dot", path=search_path)


def run_dot(dot_text: str, fmt: str, exe: str) -> bytes:
    """Lay out DOT text with Graphviz; a failure becomes one RuntimeError line with dot's words."""
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format {fmt!r} not supported; choose one of {IMAGE_FORMATS}")
    proc = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True,
                          timeout=120, check=False)
    if proc.returncode != 0 or not proc.stdout:
        first = (proc.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[0]
        raise RuntimeError(f"graphviz dot -T{fmt} failed: {first}")
    return proc.stdout


def draw(g: nx.DiGraph, fmt: str, *, highlight: Mapping | None = None, title: str | None = None,
         dot: str | None | bool = True) -> Drawing:
    """SVG or PNG bytes of ``g``.

    ``dot``: True looks the executable up on PATH, a string is its path, False/None forces the
    matplotlib drawing. ``Drawing.via`` says which renderer ran, so callers can print the note.
    """
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format {fmt!r} not supported; choose one of {IMAGE_FORMATS}")
    exe = find_dot() if dot is True else (dot or None)
    if exe:
        return Drawing(run_dot(to_dot(g, highlight=highlight, title=title), fmt, exe), fmt, "dot")
    from nas.graphs.mpl import draw_layered  # matplotlib only where it is needed

    return Drawing(draw_layered(g, fmt, highlight=highlight, title=title), fmt, "matplotlib")
