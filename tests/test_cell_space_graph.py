"""The cell space's graphs: node and edge counts implied by the spec, costs, GraphML-safe attributes."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from search_toys import spec_id

from search_spaces.cell import space as cs
from search_spaces.cell.archs import NAMED
from search_spaces.cell.graph import op_label, to_graph
from search_spaces.cell.plan import plan_network
from search_spaces.cell.spec import output_states

REQUIRED = {"op", "label", "kind", "channels", "height", "width", "params", "macs"}


def _specs():
    space = cs.CellSpace(cs.NASNET_OPS)
    rng = np.random.default_rng(11)
    return [space.sample(rng) for _ in range(5)] + [NAMED[n] for n in ("nasnet_a_mobile", "darts_v2")]


@pytest.mark.parametrize("spec", _specs(), ids=spec_id)
def test_cell_view_counts_follow_the_spec(spec):
    g = to_graph(spec, "cell")
    assert g.graph["view"] == "cell" and g.graph["space"] == "cell" and cs.parse(g.graph["spec"]) == spec
    expected_nodes = expected_edges = 0
    for kind in ("normal", "reduce"):
        cell = getattr(spec, kind)
        concat = output_states(cell, spec.wiring)
        expected_nodes += 2 + 3 * cell.num_blocks + 1
        expected_edges += 4 * cell.num_blocks + len(concat)
        nodes = [n for n, d in g.nodes(data=True) if d["cell"] == kind]
        assert all(n.startswith(f"{kind}/") for n in nodes)
        assert sorted(p for p in g.predecessors(f"{kind}/output")) == sorted(
            f"{kind}/input{i}" if i < 2 else f"{kind}/b{i - 2}" for i in concat)
        for b, block in enumerate(cell.blocks):
            assert g.nodes[f"{kind}/b{b}"]["op"] == block.combiner
            assert g.nodes[f"{kind}/b{b}.op1"]["op"] == block.op1
            assert next(iter(g.predecessors(f"{kind}/b{b}.op2"))) == (
                f"{kind}/input{block.input2}" if block.input2 < 2 else f"{kind}/b{block.input2 - 2}")
    assert (g.number_of_nodes(), g.number_of_edges()) == (expected_nodes, expected_edges)
    assert nx.is_directed_acyclic_graph(g)


@pytest.mark.parametrize("spec", _specs(), ids=spec_id)
def test_network_view_sums_to_the_spec_cost(spec):
    g = to_graph(spec, "network")
    plan = plan_network(spec)
    cost = plan.cost()
    assert (g.graph["params"], g.graph["macs"]) == (cost.params, cost.macs)
    assert sum(d["params"] for _, d in g.nodes(data=True)) == cost.params
    assert sum(d["macs"] for _, d in g.nodes(data=True)) == cost.macs
    assert g.number_of_nodes() == 1 + len(plan.stems) + len(plan.cells) + 3
    assert nx.is_directed_acyclic_graph(g) and list(nx.topological_sort(g))[-1] == "output"
    # every cell but the first reads two distinct earlier nodes (h[i-2] and h[i-1])
    first = plan.cells[0].name
    for c in plan.cells:
        assert g.in_degree(c.name) == (1 if c.name == first else 2)


def test_nodes_carry_graphml_safe_attributes(tmp_path):
    spec = NAMED["nasnet_a_mobile"]
    for view in ("network", "cell"):
        g = to_graph(spec, view)
        for node, data in g.nodes(data=True):
            assert REQUIRED <= set(data), node
            assert all(isinstance(v, (str, int, float)) for v in data.values()), node
        path = tmp_path / f"{view}.graphml"
        nx.write_graphml(g, path)
        back = nx.read_graphml(path)
        assert back.number_of_nodes() == g.number_of_nodes()
        assert back.graph["spec"] == spec.to_str()


def test_network_view_of_nasnet_mobile_matches_the_paper_layout():
    g = to_graph(NAMED["nasnet_a_mobile"], "network")
    stem = g.nodes["stem"]
    assert (stem["channels"], stem["height"]) == (32, 111)  # 3x3 stride-2 VALID conv on 224px
    assert (g.nodes["stem_cell1"]["height"], g.nodes["cell0"]["height"], g.nodes["cell11"]["height"]) == (28, 28, 7)
    assert g.nodes["cell11"]["channels"] == 1056 and g.nodes["head"]["label"] == "linear 1056->1000"
    assert g.nodes["reduce0"]["kind"] == "reduce" and g.nodes["cell4"]["kind"] == "normal"
    assert set(g.predecessors("cell4")) == {"cell3", "reduce0"}


def test_labels_read_like_the_papers_figures():
    assert [op_label(o) for o in ("sep_conv_3x3", "avg_pool_3x3", "conv_1x7_7x1", "conv_3x3", "identity",
                                  "skip_connect", "dil_conv_3x3")] == [
        "sep 3x3", "avg 3x3", "1x7 then 7x1", "3x3 conv", "identity", "skip", "dil 3x3"]
    g = to_graph(NAMED["darts_v2"], "cell")
    assert g.nodes["normal/input0"]["label"] == "h[i-2]" and g.nodes["reduce/b0.op1"]["stride"] == 2


def test_unknown_view_is_rejected():
    with pytest.raises(ValueError, match="accepted: network, cell"):
        to_graph(NAMED["darts_v2"], "cells")
