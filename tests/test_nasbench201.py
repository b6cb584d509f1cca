"""NAS-Bench-201 space, builder and tabular evaluator against the benchmark's own table/figures."""
from __future__ import annotations

import csv
import itertools
import re

import networkx as nx
import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from search_spaces.nasbench201 import space as nb
from search_spaces.nasbench201.space import NAMED, OPS, NB201Space, NB201Spec
from search_spaces.nasbench201.build import NB201Cell, ResidualReduction
from search_spaces.nasbench201.table import METRICS, NB201Table

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture(scope="module")
def table_path(shared_data):
    return shared_data / "nasbench201-12epoch.csv"


@pytest.fixture(scope="module")
def table(table_path):
    return NB201Table(table_path)


@pytest.fixture(scope="module")
def rows(table_path):
    with table_path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_table_string_parses_and_round_trips(rows):
    space = NB201Space()
    specs = set()
    for row in rows:
        spec = NB201Spec.from_str(row["arch_str"])
        assert spec.to_str() == row["arch_str"]
        assert NB201Spec.from_dict(spec.to_dict()) == spec
        assert space.freeze(space.decisions(spec)) == spec
        specs.add(spec)
    every = {space.freeze(d) for d in itertools.product(range(len(OPS)), repeat=6)}
    assert len(rows) == 15625 and specs == every


def test_evaluator_returns_the_table_values(table, rows):
    assert len(table) == 15625
    for row in rows[::7]:
        for metric in METRICS:
            assert table.query(row["arch_str"], metric) == float(row[metric])
        assert table.index(row["arch_str"]) == int(row["index"])
    spec = NB201Spec.from_str(rows[1]["arch_str"])
    assert table.query(spec) == float(rows[1]["cifar10_valid"])
    # The cell is the key: the task fields of a spec do not change the lookup.
    assert table.query(NB201Spec(spec.ops, 100, 16), "cifar100_valid") == float(rows[1]["cifar100_valid"])
    assert table.arch_strings()[:2] == [rows[0]["arch_str"], rows[1]["arch_str"]]


def test_evaluator_rejects_bad_queries_and_files(table, tmp_path, rows):
    with pytest.raises(ValueError, match="unknown metric 'cifar10_val'.*cifar10_valid"):
        table.query(EXAMPLE, "cifar10_val")
    with pytest.raises(ValueError, match="unknown op 'conv_5x5'"):
        table.query(EXAMPLE.replace("avg_pool_3x3", "conv_5x5"))
    with pytest.raises(TypeError, match="NB201Spec or an arch string"):
        table.query(3)
    small = tmp_path / "small.csv"
    with small.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:3])
    assert len(NB201Table(small)) == 3
    with pytest.raises(KeyError, match="not in small.csv"):
        NB201Table(small).query(rows[5]["arch_str"])
    bad = tmp_path / "bad.csv"
    bad.write_text("index,arch_str,cifar10_valid\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1.0\n")
    with pytest.raises(ValueError, match="missing column.*cifar10_test"):
        NB201Table(bad)
    with pytest.raises(FileNotFoundError):
        NB201Table(tmp_path / "absent.csv")


@pytest.mark.parametrize("text, message", [
    ("|nor_conv_3x3~0|+|none~0|none~1|", "3 nodes joined by '+', got 2"),
    ("|nor_conv_3x3~0+|none~0|none~1|+|none~0|none~1|none~2|", "node 1 token '|nor_conv_3x3~0' must be wrapped"),
    ("|nor_conv_3x3~0|+|none~0|+|none~0|none~1|none~2|", "node 2 token '|none~0|' must list 2 edge(s)"),
    ("|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'nor_conv_5x5'"),
    ("|max_pool_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'max_pool_3x3'"),
    ("|nor_conv_3x3|+|none~0|none~1|+|none~0|none~1|none~2|", "token 'nor_conv_3x3' of node 1 must be op~input"),
    ("|none~0|+|none~1|none~0|+|none~0|none~1|none~2|", "token 'none~1' of node 2 must read node 0"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~3|", "token 'none~3' of node 3 must read node 2"),
    (EXAMPLE + "@num_classes=ten", "num_classes must be an int"),
    (EXAMPLE + "@classes=100", "bad spec suffix token 'classes=100'"),
    (EXAMPLE + "@resolution=30", "resolution must be a multiple of 4"),
])
def test_malformed_strings_name_the_bad_token(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        NB201Spec.from_str(text)
    with pytest.raises(ValueError, match=re.escape(message)):
        nb.parse(text)
    assert nb.parse(text.lstrip("|")) is None  # not this space's string form at all


def test_string_json_and_catalog_hooks():
    spec = NB201Spec.from_str(EXAMPLE)
    assert spec.ops == ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3",
                        "skip_connect")
    assert spec.to_str() == EXAMPLE and (spec.num_classes, spec.resolution) == (10, 32)
    other = NB201Spec(spec.ops, num_classes=120, resolution=16)
    assert other.to_str() == EXAMPLE + "@num_classes=120,resolution=16"
    assert NB201Spec.from_str(other.to_str()) == other
    assert NB201Spec.from_str(EXAMPLE + "@resolution=16,num_classes=120") == other
    assert nb.parse_dict(other.to_dict()) == other and other.to_dict()["num_classes"] == 120
    assert nb.parse_dict(other.to_str()) == other
    assert nb.parse("cell:whatever") is None and nb.parse_dict({"space": "blocks"}) is None
    assert nb.space_for(other).resolution == 16 and nb.space_for("x") is None
    with pytest.raises(ValueError, match="unknown NAS-Bench-201 spec field"):
        NB201Spec.from_dict({"space": "nasbench201", "cell": EXAMPLE, "width": 3})
    with pytest.raises(ValueError, match="edge 1->2: unknown op 'conv_3x3'"):
        NB201Spec(("none", "none", "conv_3x3", "none", "none", "none"))
    assert NAMED["nb201_resnet"].ops == ("nor_conv_3x3", "none", "nor_conv_3x3", "skip_connect", "none",
                                         "skip_connect")


def test_sample_mutate_and_retarget():
    space, rng = NB201Space(), np.random.default_rng(0)
    for _ in range(50):
        spec = space.sample(rng)
        child = space.mutate(spec, rng)
        assert sum(a != b for a, b in zip(spec.ops, child.ops)) == 1
    assert [d.name for d in space.dimensions()] == ["edge_0->1", "edge_0->2", "edge_1->2", "edge_0->3",
                                                   "edge_1->3", "edge_2->3"]
    moved = space.retarget(spec, num_classes=100)
    assert (moved.ops, moved.num_classes, moved.resolution) == (spec.ops, 100, 32)
    with pytest.raises(ValueError, match="decision 'edge_0->2' index 5 out of range"):
        space.freeze([0, 5, 0, 0, 0, 0])


# Params of the benchmark's v1.1 tables: the smallest (all 'none') and largest (all 3x3 convs) cells
# per dataset; the tables' "flop" figure is our MACs plus the classifier's bias adds.
BENCHMARK_EXTREMES = [
    ("none", 10, 32, 73306, 7.78305), ("nor_conv_3x3", 10, 32, 1531546, 220.11969),
    ("none", 100, 32, 79156, 7.7889), ("nor_conv_3x3", 100, 32, 1537396, 220.12554),
    ("none", 120, 16, 80456, 1.9534), ("nor_conv_3x3", 120, 16, 1538696, 55.03756),
]


@pytest.mark.parametrize("op, classes, res, params, mflops", BENCHMARK_EXTREMES)
def test_cost_matches_the_benchmark_figures(op, classes, res, params, mflops):
    cost = NB201Space().cost(NB201Spec((op,) * 6, classes, res))
    assert cost.params == params
    assert round((cost.macs + classes) / 1e6, 5) == pytest.approx(mflops, abs=1e-5)


def _count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_built_networks_match_cost_and_macro_structure():
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    specs = [NB201Space().sample(rng), NAMED["nb201_resnet"], NB201Spec.from_str(EXAMPLE)]
    for spec in specs:
        space = nb.space_for(spec)
        model = space.build(spec).eval()
        with FlopCounterMode(display=False) as counter:
            out = model(torch.randn(1, 3, 32, 32))
        assert out.shape == (1, 10)
        assert _count(model) == space.cost(spec).params
        assert counter.get_total_flops() // 2 == space.cost(spec).macs  # 2 FLOPs per MAC
    model = NB201Space().build(NAMED["nb201_resnet"])
    kinds = [type(m).__name__ for m in model.cells]
    assert kinds == ["NB201Cell"] * 5 + ["ResidualReduction"] + ["NB201Cell"] * 5 + \
        ["ResidualReduction"] + ["NB201Cell"] * 5
    widths = [m.conv_b[1].out_channels for m in model.cells if isinstance(m, ResidualReduction)]
    assert widths == [32, 64] and model.classifier.in_features == 64
    assert model.stem[0].out_channels == 16 and model.stem[0].kernel_size == (3, 3)
    # Hand count of the ResNet-like cell network: 2 convs 3x3 + BN per cell at C = 16, 32, 64.
    cells = sum(5 * 2 * (9 * c * c + 2 * c) for c in (16, 32, 64))
    reductions = sum(9 * a * b + 2 * b + 9 * b * b + 2 * b + a * b for a, b in ((16, 32), (32, 64)))
    assert _count(model) == 3 * 16 * 9 + 32 + cells + reductions + 128 + 650
    with pytest.raises(TypeError, match="takes no options.*drop_path"):
        NB201Space().build(NAMED["nb201_resnet"], drop_path=0.1)
    small = NB201Space(120, 16).build(NB201Spec(NAMED["nb201_resnet"].ops, 120, 16))
    assert small(torch.randn(1, 3, 16, 16)).shape == (1, 120)


def test_cell_sums_edges_as_the_benchmark():
    torch.manual_seed(0)
    cell = NB201Cell(("skip_connect", "none", "avg_pool_3x3", "skip_connect", "none", "skip_connect"), 4)
    x = torch.randn(1, 4, 5, 5)
    pooled = torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    # node1 = x, node2 = pool(node1), node3 = x + node2
    assert torch.allclose(cell(x), x + pooled)


def test_graph_views(tmp_path):
    space, spec = NB201Space(), NB201Spec.from_str(EXAMPLE)
    cell = space.to_graph(spec, view="cell")
    ops = {n: d["op"] for n, d in cell.nodes(data=True)}
    assert sorted(n for n in ops if ops[n] in ("input", "add")) == ["normal/0", "normal/1", "normal/2",
                                                                    "normal/3"]
    assert ops["normal/e12"] == "avg_pool_3x3" and ops["normal/e23"] == "skip_connect"
    assert cell.number_of_nodes() == 10 and cell.number_of_edges() == 12
    assert list(cell.predecessors("normal/3")) == ["normal/e03", "normal/e13", "normal/e23"]
    assert cell.graph["spec"] == EXAMPLE and cell.graph["view"] == "cell"
    net = space.to_graph(spec)
    total = space.cost(spec)
    assert sum(d["params"] for _, d in net.nodes(data=True)) == total.params == net.graph["params"]
    assert sum(d["macs"] for _, d in net.nodes(data=True)) == total.macs
    assert [d["op"] for _, d in net.nodes(data=True)].count("cell") == 15
    assert nx.is_directed_acyclic_graph(net) and nx.is_directed_acyclic_graph(cell)
    nx.write_graphml(net, tmp_path / "net.graphml")
    nx.write_graphml(cell, tmp_path / "cell.graphml")
    with pytest.raises(ValueError, match="view must be 'network' or 'cell'"):
        space.to_graph(spec, view="stage")
