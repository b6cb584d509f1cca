"""The graph and analytic cost of a cell network, from its spec alone (no module is built).

Two views, as the papers draw them. ``network``: input, stem(s), one node per cell (NASNet's
Figure 2 stacking, with both h[i-2] and h[i-1] edges), global pooling, the classifier, output; node
params/MACs sum to the spec's totals. ``cell``: the normal and the reduction cell as NASNet's
Figure 4 / DARTS's Figure 4 draw them: two inputs, two op nodes and a combiner per block, and the
output concatenation; shapes and costs are those of the first cell of each type in the network.
The auxiliary head is left out of both, as the papers leave it out of their counts.
"""
from __future__ import annotations

import re

import networkx as nx

from search_spaces.base import new_graph

from cells.counting import Cost
from search_spaces.cell.plan import CellPlan, NetworkPlan, plan_network
from search_spaces.cell.spec import CellSpec

VIEWS = ("network", "cell")

_LABELS = [(r"sep_conv_(\d+x\d+)", r"sep \1"), (r"dil_conv_(\d+x\d+)", r"dil \1"),
           (r"avg_pool_(\d+x\d+)", r"avg \1"), (r"max_pool_(\d+x\d+)", r"max \1"),
           (r"conv_(1x\d+)_(\d+x1)", r"\1 then \2"), (r"conv_(\d+x\d+)", r"\1 conv"),
           (r"skip_connect", "skip"), (r"none", "zero")]


def op_label(name: str) -> str:
    """Display text in the papers' style ('sep 3x3', 'avg 3x3', '1x7 then 7x1')."""
    for pattern, repl in _LABELS:
        if re.fullmatch(pattern, name):
            return re.sub(pattern, repl, name)
    return name.replace("_", " ")


def cost(spec: CellSpec) -> Cost:
    """Parameters and MACs of ``build(spec)`` without its auxiliary head."""
    return plan_network(spec).cost()


def _node(g: nx.DiGraph, node: str, *, op: str, label: str, kind: str, chs: int, size: int, c: Cost,
          **extra) -> None:
    g.add_node(node, op=op, label=label, kind=kind, channels=int(chs), height=int(size), width=int(size),
               params=int(c.params), macs=int(c.macs), **extra)


def _network_view(g: nx.DiGraph, plan: NetworkPlan) -> None:
    spec = plan.spec
    _node(g, "input", op="input", label=f"image {spec.resolution}x{spec.resolution}", kind="input",
          chs=3, size=spec.resolution, c=Cost())
    for stem in plan.stems:
        _node(g, stem.name, op="stem", label=stem.name, kind="stem", chs=stem.out.chs, size=stem.out.size,
              c=stem.cost())
        g.add_edge(stem.source, stem.name)
    for cell in plan.cells:
        label = f"{'reduction' if cell.kind == 'reduce' else 'normal'} cell ({cell.name})"
        _node(g, cell.name, op="cell", label=label, kind=cell.kind, chs=cell.out.chs, size=cell.out.size,
              c=cell.cost(), cell=cell.kind)
        for source in dict.fromkeys(cell.sources):
            g.add_edge(source, cell.name)
    last = plan.cells[-1].name
    feats = plan.features
    _node(g, "pool", op="pool", label="global avg pool", kind="pool", chs=feats.chs, size=1, c=Cost())
    _node(g, "head", op="head", label=f"linear {feats.chs}->{spec.num_classes}", kind="head",
          chs=spec.num_classes, size=1, c=plan.head_cost())
    _node(g, "output", op="output", label="logits", kind="output", chs=spec.num_classes, size=1, c=Cost())
    nx.add_path(g, [last, "pool", "head", "output"])


def _state_node(t: str, i: int) -> str:
    return f"{t}/input{i}" if i < 2 else f"{t}/b{i - 2}"


def _cell_view(g: nx.DiGraph, cell: CellPlan) -> None:
    t = cell.kind
    for i, (prep, label) in enumerate(zip(cell.preps, ("h[i-2]", "h[i-1]"))):
        _node(g, _state_node(t, i), op="input", label=label, kind="input", chs=cell.states[i].chs,
              size=cell.states[i].size, c=prep.cost(), cell=t)
    for b, (block, pair) in enumerate(zip(cell.cell.blocks, cell.ops)):
        comb = f"{t}/b{b}"
        for k, (use, src) in enumerate(zip(pair, (block.input1, block.input2)), start=1):
            node = f"{comb}.op{k}"
            _node(g, node, op=use.name, label=op_label(use.name), kind="op", chs=use.out_chs,
                  size=use.out_size, c=use.cost(), cell=t, stride=use.stride)
            g.add_edge(_state_node(t, src), node)
            g.add_edge(node, comb)
        state = cell.states[b + 2]
        _node(g, comb, op=block.combiner, label=block.combiner, kind="combine", chs=state.chs, size=state.size,
              c=Cost(), cell=t)
    out = f"{t}/output"
    adapt = sum((a.cost() for a in cell.adapters), Cost())
    _node(g, out, op="concat", label="concat", kind="output", chs=cell.out.chs, size=cell.out.size, c=adapt,
          cell=t)
    for i in cell.concat:
        g.add_edge(_state_node(t, i), out)


def to_graph(spec: CellSpec, view: str = "network") -> nx.DiGraph:
    """The ``networkx.DiGraph`` of ``spec`` in ``view`` ('network' or 'cell')."""
    if view not in VIEWS:
        raise ValueError(f"view={view!r} is not accepted; accepted: {', '.join(VIEWS)}")
    plan = plan_network(spec)
    total = plan.cost()
    g = new_graph("cell", spec, view, total, input_node=False)
    if view == "network":
        _network_view(g, plan)
    else:
        body = [c for c in plan.cells if not c.name.startswith("stem_")]
        for kind in ("normal", "reduce"):
            _cell_view(g, next(c for c in body if c.kind == kind))
    return g
