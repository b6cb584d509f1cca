"""The NAS-Bench-201 network and cell as graphs (Dong & Yang 2020's Figure 1 views), no torch."""
from __future__ import annotations

import networkx as nx

from cells.counting import Cost
from search_spaces.base import new_graph

from search_spaces.nasbench201.plan import edge_cost, layers
from search_spaces.nasbench201.spec import EDGES, SPACE, STEM_CHS, NB201Spec


def to_graph(spec: NB201Spec, view: str, params: int, macs: int) -> nx.DiGraph:
    if view not in ("network", "cell"):
        raise ValueError(f"view must be 'network' or 'cell', got {view!r}")
    graph = new_graph(SPACE, spec, view, Cost(params, macs), input_node=False)
    (_network_graph if view == "network" else _cell_graph)(graph, spec)
    return graph


def _network_graph(graph: nx.DiGraph, spec: NB201Spec) -> None:
    h = spec.resolution
    graph.add_node("input", op="input", label=f"image {h}x{h}x3", kind="input", channels=3,
                   height=h, width=h, params=0, macs=0)
    previous = "input"
    for layer in layers(spec):
        graph.add_node(layer["id"], op=layer["op"], label=layer["label"], kind=layer["kind"],
                       channels=layer["channels"], height=layer["height"], width=layer["height"],
                       params=layer["cost"].params, macs=layer["cost"].macs)
        graph.add_edge(previous, layer["id"])
        previous = layer["id"]
    graph.add_node("output", op="output", label="logits", kind="output", channels=spec.num_classes,
                   height=1, width=1, params=0, macs=0)
    graph.add_edge(previous, "output")


def _cell_graph(graph: nx.DiGraph, spec: NB201Spec) -> None:
    """Nodes 0..3 of the cell (first-stage shape) with each edge drawn as an op node between."""
    chs, h = STEM_CHS, spec.resolution
    shape = {"channels": chs, "height": h, "width": h, "cell": "normal"}
    for j in range(4):
        op, kind = ("input", "input") if j == 0 else ("add", "output" if j == 3 else "node")
        graph.add_node(f"normal/{j}", op=op, label="in" if j == 0 else f"node {j}", kind=kind,
                       params=0, macs=0, **shape)
    for (i, j), op in zip(EDGES, spec.ops):
        cost = edge_cost(op, chs, h)
        node = f"normal/e{i}{j}"
        graph.add_node(node, op=op, label=op, kind="op", params=cost.params, macs=cost.macs, **shape)
        graph.add_edge(f"normal/{i}", node)
        graph.add_edge(node, f"normal/{j}")
