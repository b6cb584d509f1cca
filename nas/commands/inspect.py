"""``nas inspect``: an architecture's graph, cost and drawings, without building the model.

SPEC is a named architecture (NASNet-A, DARTS-V2, EfficientNet-B0, ...), a spec string, a JSON
file, or a run directory (its best spec, or its top K). Everything comes from the spec's
``to_graph`` and analytic ``cost`` (shared/DESIGN.md: spec -> graph and spec -> cost are pure
functions that need no torch), so inspecting an ImageNet-size network takes milliseconds.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nas.graphs import FALLBACK_NOTE, draw, drawing_view, graph_of
from nas.graphs import html as html_page
from nas.graphs.diff import diff_specs, diff_text, diff_title
from nas.graphs.render import to_dot, to_graphml, to_json
from nas.graphs.text import table

FORMATS = ("text", "json", "dot", "graphml", "svg", "png", "html")
EXT = {"text": "txt", "json": "json", "dot": "dot", "graphml": "graphml", "svg": "svg",
       "png": "png", "html": "html"}


def register(sub) -> None:
    p = sub.add_parser("inspect", help="show an architecture's graph and cost (no model is built)",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("spec", nargs="?", metavar="SPEC",
                   help="named architecture, spec string, JSON file, or run directory")
    p.add_argument("--view", choices=("cell", "network", "stage"), default=None,
                   help="cells (cell spaces), per-stage (block space) or whole network "
                        "(default: network; for --diff the cells or stages)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("-o", "--output", type=Path, default=None, help="write here instead of stdout")
    p.add_argument("--top", type=int, default=1, metavar="K", help="run directory: its top K specs")
    p.add_argument("--num-classes", type=int, default=None, help="retarget the classifier first")
    p.add_argument("--resolution", type=int, default=None, help="retarget the input size first")
    p.add_argument("--diff", nargs=2, metavar=("A", "B"), default=None,
                   help="compare two specs of the same space")
    p.set_defaults(func=run)


def retarget(spec: Any, num_classes: int | None, resolution: int | None) -> Any:
    if num_classes is None and resolution is None:
        return spec
    from search_spaces import catalog

    for name, value in (("--num-classes", num_classes), ("--resolution", resolution)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    return catalog.space_for(spec).retarget(spec, num_classes=num_classes, resolution=resolution)


def resolve_specs(text: str, top: int) -> list[tuple[str, Any]]:
    """(title, spec) pairs: one for a name / string / file, up to ``top`` for a run directory."""
    from nas.resolve import resolve_all

    return resolve_all(text, top)


def _emit(data: bytes | str, out: Path | None, binary: bool = False) -> None:
    raw = data.encode() if isinstance(data, str) else data
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(raw)
        print(f"wrote {out}", file=sys.stderr)
    elif binary and sys.stdout.isatty():
        raise ValueError("PNG output is binary: give -o PATH (or redirect stdout to a file)")
    else:
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()


def _numbered(out: Path | None, rank: int, count: int, fmt: str) -> Path | None:
    if count == 1:
        return out
    if out is None:
        raise ValueError(f"--top {count} with --format {fmt} writes one file per spec: give -o PATH")
    return out.with_name(f"{out.stem}-{rank}{out.suffix or '.' + EXT[fmt]}")


def _note_once(drawing, noted: list) -> None:
    if drawing.via == "matplotlib" and not noted:
        print(FALLBACK_NOTE, file=sys.stderr)
        noted.append(True)


def _html_section(title: str, spec: Any, view: str | None, noted: list) -> html_page.Section:
    """The drawings (the cells -- or a block spec's stages -- and the network) and cost table."""
    net = graph_of(spec, "network")
    sec = html_page.Section(title=title, spec=str(net.graph.get("spec", "")), cost_graph=net)
    views = [view] if view else list(dict.fromkeys([drawing_view(spec), "network"]))
    graphs = [net if v == "network" else graph_of(spec, v) for v in views]
    for g in graphs:
        drawing = draw(g, "svg")
        _note_once(drawing, noted)
        sec.svgs.append((f"{g.graph.get('view')} view (drawn with {drawing.via})", drawing.data.decode()))
    return sec


def run(args: argparse.Namespace) -> int:
    if args.diff:
        if args.spec:
            raise ValueError("give either SPEC or --diff A B, not both")
        return run_diff(args)
    if not args.spec:
        raise ValueError("missing SPEC: a named architecture, spec string, JSON file or run "
                         "directory (or use --diff A B)")
    entries = [(t, retarget(s, args.num_classes, args.resolution))
               for t, s in resolve_specs(args.spec, args.top)]
    view = args.view or "network"
    fmt, noted = args.format, []
    if fmt == "html":
        sections = [_html_section(t, s, args.view, noted) for t, s in entries]
        _emit(html_page.page(f"nas inspect {args.spec}", sections), args.output)
        return 0
    graphs = [(t, graph_of(s, view)) for t, s in entries]
    if fmt == "text":
        _emit("\n".join((f"# {t}\n" if len(graphs) > 1 else "") + table(g) for t, g in graphs),
              args.output)
    elif fmt == "json":
        docs = [to_json(g) for _, g in graphs]
        _emit(json.dumps(docs[0] if len(docs) == 1 else docs, indent=1) + "\n", args.output)
    else:
        for rank, (_, g) in enumerate(graphs, start=1):
            out = _numbered(args.output, rank, len(graphs), fmt)
            if fmt == "dot":
                _emit(to_dot(g), out)
            elif fmt == "graphml":
                _emit(to_graphml(g), out)
            else:
                drawing = draw(g, fmt)
                _note_once(drawing, noted)
                _emit(drawing.data, out, binary=fmt == "png")
    return 0


def run_diff(args: argparse.Namespace) -> int:
    from search_spaces import catalog

    a, b = (retarget(catalog.resolve(t), args.num_classes, args.resolution) for t in args.diff)
    d = diff_specs(a, b, view=args.view or drawing_view(b))
    fmt, title = args.format, diff_title(d, *args.diff)
    if fmt == "text":
        _emit(diff_text(d) + "\n" + table(d.graph_b, highlight=d.highlight), args.output)
    elif fmt == "json":
        doc = {"space": d.space, "note": d.note, "decisions": [vars(c) for c in d.changes],
               "other_fields": [vars(c) for c in d.other_fields],
               "a": {"params": d.cost_a.params, "macs": d.cost_a.macs},
               "b": {"params": d.cost_b.params, "macs": d.cost_b.macs},
               "highlight": {str(k): v for k, v in d.highlight.items()}}
        _emit(json.dumps(doc, indent=1, default=str) + "\n", args.output)
    elif fmt == "dot":
        _emit(to_dot(d.graph_b, highlight=d.highlight, title=title), args.output)
    elif fmt == "graphml":
        raise ValueError("--diff supports --format text, json, dot, svg, png, html (not graphml)")
    elif fmt == "html":
        drawing = draw(d.graph_b, "svg", highlight=d.highlight, title=title)
        _note_once(drawing, [])
        sec = html_page.Section(title="B against A", spec=str(d.graph_b.graph.get("spec", "")),
                                svgs=[("red: a decision differs; orange dashed: only the cost moved",
                                       drawing.data.decode())], notes=diff_text(d).splitlines())
        _emit(html_page.page(f"nas inspect --diff {' '.join(args.diff)}", [sec]), args.output)
    else:
        drawing = draw(d.graph_b, fmt, highlight=d.highlight, title=title)
        _note_once(drawing, [])
        print(diff_text(d), file=sys.stderr, end="")
        _emit(drawing.data, args.output, binary=fmt == "png")
    return 0
