"""nas.graphs on graphs that follow the spaces' graph contract, built here by hand: DOT and
GraphML round trips, SVG/PNG through Graphviz and through matplotlib, tables, HTML, diffs."""
from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from nas.graphs import draw, find_dot
from nas.graphs.diff import graph_highlight
from nas.graphs.html import Section, page
from nas.graphs.render import read_graphml, to_dot, to_graphml, to_json
from nas.graphs.text import table

OPS_NORMAL = [("sep_conv_3x3", "sep 3x3", 0), ("identity", "identity", 1),
              ("avg_pool_3x3", "avg 3x3", 2), ("sep_conv_5x5", "sep 5x5", 1)]
OPS_REDUCE = [("max_pool_3x3", "max 3x3", 0), ("sep_conv_7x7", "sep 7x7", 1),
              ("skip_connect", "skip", 2), ("dil_conv_3x3", "dil 3x3", 0)]


def cell_graph(normal=OPS_NORMAL, reduce=OPS_REDUCE, chs=16, size=8) -> nx.DiGraph:
    """Two blocks per cell, ops listed block by block as (op, label, input index): inputs 0/1 are
    the cell inputs h_{i-1}/h_i, 2 is block 0's output (the NASNet-A wiring in miniature)."""
    g = nx.DiGraph(space="toy-cell", spec="cell:toy", view="cell", params=12345, macs=6789000)
    for cell, ops in (("normal", normal), ("reduce", reduce)):
        s = size // 2 if cell == "reduce" else size
        shape = dict(channels=chs, height=s, width=s)
        for i, lab in enumerate(["h_{i-1}", "h_{i}"]):
            g.add_node(f"{cell}/in{i}", op="input", label=lab, kind="input", cell=cell,
                       params=0, macs=0, **dict(shape, height=size, width=size))
        for b in range(2):
            g.add_node(f"{cell}/b{b}/add", op="add", label="add", kind="combiner", cell=cell,
                       params=0, macs=0, **shape)
        for j, (op, lab, src) in enumerate(ops):
            node = f"{cell}/b{j // 2}/op{j % 2}"
            g.add_node(node, op=op, label=lab, kind="op", cell=cell, params=100 * (j + 1),
                       macs=1000 * (j + 1), **shape)
            g.add_edge(f"{cell}/in{src}" if src < 2 else f"{cell}/b{src - 2}/add", node)
            g.add_edge(node, f"{cell}/b{j // 2}/add")
        g.add_node(f"{cell}/concat", op="concat", label="concat", kind="output", cell=cell,
                   params=0, macs=0, **dict(shape, channels=2 * chs))
        g.add_edge(f"{cell}/b1/add", f"{cell}/concat")
        g.add_edge(f"{cell}/in1" if cell == "normal" else f"{cell}/b0/add", f"{cell}/concat")
    return g


def network_graph(n_cells=4) -> nx.DiGraph:
    rows = [("stem", "stem", "stem 3x3", 48, 32, 1296, 1327104)]
    rows += [(f"cell{i}", "cell", "reduction cell" if i == n_cells // 2 else "normal cell",
              64 * (1 + (i >= n_cells // 2)), 32 // (1 + (i >= n_cells // 2)), 5000 + i, 600000 + i)
             for i in range(n_cells)]
    rows += [("pool", "pool", "global avg pool", 128, 1, 0, 0), ("head", "head", "linear 10", 10, 1, 1290, 1280)]
    g = nx.DiGraph(space="toy-cell", spec="cell:toy", view="network")
    for name, op, label, c, s, p, m in rows:
        g.add_node(name, op=op, label=label, kind=op, channels=c, height=s, width=s, params=p, macs=m)
    g.add_edges_from(zip([r[0] for r in rows], [r[0] for r in rows[1:]]))
    g.graph.update(params=sum(r[5] for r in rows), macs=sum(r[6] for r in rows))
    return g


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def no_dot_path(tmp_path) -> str:
    """A PATH holding no ``dot``: what a machine without Graphviz looks like."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    return str(empty)


def test_cell_graph_fixture_has_the_counts_its_wiring_implies():
    g = cell_graph()
    # per cell: 2 inputs + 4 ops + 2 adds + concat = 9 nodes; 4 op-in + 4 op-out + 2 concat = 10
    assert (g.number_of_nodes(), g.number_of_edges()) == (18, 20)


def pydot_nodes(graph) -> dict:
    """Node name -> attributes of a parsed pydot graph, clusters included."""
    out = {n.get_name().strip('"'): n.get_attributes() for n in graph.get_nodes()}
    for sub in graph.get_subgraphs():
        out.update(pydot_nodes(sub))
    out.pop("node", None), out.pop("edge", None), out.pop("graph", None)
    return out


@pytest.mark.parametrize("make", [cell_graph, network_graph])
def test_dot_parses_back_with_every_node_edge_and_label(make, tmp_path):
    import pydot

    g = make()
    text = to_dot(g)
    parsed = pydot.graph_from_dot_data(text)[0]
    nodes = pydot_nodes(parsed)
    assert set(nodes) == set(g.nodes)
    for node, attrs in g.nodes(data=True):
        assert attrs["label"] in nodes[node]["label"]
        assert f"op={attrs['op']}" in nodes[node]["tooltip"]
    (tmp_path / "g.dot").write_text(text)
    back = nx.nx_pydot.read_dot(tmp_path / "g.dot")
    assert {(u.strip('"'), v.strip('"')) for u, v in back.edges()} == set(g.edges)
    assert text.count('subgraph "cluster_') == (2 if g.graph["view"] == "cell" else 0)


@pytest.mark.parametrize("make", [cell_graph, network_graph])
def test_graphml_reads_back_into_an_equal_graph(make, tmp_path):
    g = make()
    path = tmp_path / "g.graphml"
    path.write_text(to_graphml(g))
    back = read_graphml(path)
    assert nx.utils.graphs_equal(g, back)  # nodes, edges, node/edge/graph attributes
    assert dict(back.nodes(data=True)) == dict(g.nodes(data=True))


def test_graphml_rejects_a_non_scalar_attribute_by_name():
    g = network_graph()
    g.nodes["stem"]["shape"] = (1, 2)
    with pytest.raises(TypeError, match="node 'stem' attribute 'shape' is tuple"):
        to_graphml(g)


def test_json_is_node_link_with_headline_figures():
    doc = json.loads(json.dumps(to_json(network_graph())))
    assert doc["spec"] == "cell:toy" and doc["params"] == network_graph().graph["params"]
    back = nx.node_link_graph(doc["graph"], edges="edges")
    assert nx.utils.graphs_equal(back, network_graph())


def _check_svg(data: bytes, g: nx.DiGraph) -> str:
    root = ET.fromstring(data)
    assert root.tag.endswith("svg")
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text") or t.tag.endswith("tspan"))
    for _, attrs in g.nodes(data=True):
        assert attrs["label"] in texts, attrs["label"]
    return data.decode()


@pytest.mark.skipif(find_dot() is None, reason="Graphviz 'dot' is not installed (apt-get install graphviz)")
@pytest.mark.parametrize("make", [cell_graph, network_graph])
def test_dot_svg_is_well_formed_with_labels_and_tooltips(make):
    g = make()
    d = draw(g, "svg")
    assert d.via == "dot"
    svg = _check_svg(d.data, g)
    assert "op=sep_conv_3x3" in svg or "op=stem" in svg  # the node tooltips
    assert "MACs" in svg


@pytest.mark.parametrize("make", [cell_graph, network_graph])
def test_matplotlib_svg_without_dot_is_well_formed_with_labels(make, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", no_dot_path(tmp_path))
    g = make()
    d = draw(g, "svg")
    assert d.via == "matplotlib"
    _check_svg(d.data, g)


@pytest.mark.parametrize("use_dot", [True, False], ids=["dot", "matplotlib"])
def test_both_paths_give_sane_pngs(use_dot, tmp_path, monkeypatch):
    if use_dot and find_dot() is None:
        pytest.skip("Graphviz 'dot' is not installed (apt-get install graphviz)")
    if not use_dot:
        monkeypatch.setenv("PATH", no_dot_path(tmp_path))
    for g in (cell_graph(), network_graph(20)):
        d = draw(g, "png")
        assert d.via == ("dot" if use_dot else "matplotlib")
        w, h = png_size(d.data)
        assert len(d.data) > 2000 and 100 < w < 10000 and 100 < h < 10000, (len(d.data), w, h)


def test_text_table_lists_every_node_with_cost_and_totals():
    g = network_graph()
    out = table(g)
    for node, attrs in g.nodes(data=True):
        assert node in out and attrs["label"] in out and f"{attrs['params']:,}" in out
    assert "64x32x32" in out and f"params {g.graph['params']:,}" in out
    cell_out = table(cell_graph())
    assert "normal cell" in cell_out and "reduce cell" in cell_out and "h_{i-1}, add" not in cell_out


def test_html_page_is_self_contained_with_inline_svg_and_cost_table(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", no_dot_path(tmp_path))
    svg = draw(cell_graph(), "svg").data
    doc = page("t", [Section("toy", "cell:toy", [("cell view", svg.decode())], network_graph())])
    assert doc.count("<svg") == 1 and "<?xml" not in doc and "src=" not in doc
    assert f"{network_graph().graph['macs']:,}" in doc and "reduction cell" in doc


def test_graph_highlight_marks_changed_ops_rewired_nodes_and_cost_only_moves():
    changed_op = [("sep_conv_7x7", "sep 7x7", 0)] + OPS_NORMAL[1:]
    rewired = OPS_NORMAL[:3] + [("sep_conv_5x5", "sep 5x5", 0)]
    a, b = cell_graph(), cell_graph(normal=changed_op)
    assert graph_highlight(a, b) == {"normal/b0/op0": "changed"}
    assert graph_highlight(a, cell_graph(normal=rewired)) == {"normal/b1/op1": "changed"}
    bigger = network_graph()
    bigger.nodes["cell3"]["params"] += 1
    assert graph_highlight(network_graph(), bigger) == {"cell3": "cost"}
    text = table(b, highlight=graph_highlight(a, b))
    row = next(line for line in text.splitlines() if "sep 7x7" in line and "b0/op0" in line)
    assert row.startswith("*")


def test_highlighted_dot_marks_nodes_and_rejects_unknown_ones():
    text = to_dot(cell_graph(), highlight={"normal/b0/op0": "changed", "reduce/b1/op1": "cost"})
    assert "#d62728" in text and "dashed" in text
    with pytest.raises(ValueError, match="not in the graph"):
        to_dot(cell_graph(), highlight={"nope": "changed"})
