"""``nas inspect`` on the papers' architectures: graph counts the specs imply, DOT / GraphML /
SVG / PNG round trips, totals against the analytic cost and the built model, run directories,
diffs, and one clear error line for bad input."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest

from nas.cli import main
from nas.graphs import cell_drawings, find_dot
from nas.graphs.render import read_graphml, to_dot, to_graphml
from search_spaces import catalog
from search_spaces.cell.spec import output_states

ROOT = Path(__file__).resolve().parents[1]
CELL_ARCHS = ("nasnet_a_mobile", "darts_v2")
ARCHS = CELL_ARCHS + ("efficientnet_b0",)
NEEDS_DOT = pytest.mark.skipif(find_dot() is None, reason="Graphviz 'dot' is not installed "
                               "(tools/system-deps.sh or apt-get install graphviz)")


def spec_of(name):
    return catalog.resolve(name)


def graph(name, view):
    spec = spec_of(name)
    return catalog.space_for(spec).to_graph(spec, view=view)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["inspect", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", CELL_ARCHS)
def test_cell_view_counts_are_what_the_spec_implies(name):
    spec, g = spec_of(name), graph(name, "cell")
    nodes = edges = 0
    for cell in (spec.normal, spec.reduce):
        blocks = len(cell.blocks)
        nodes += 2 + 3 * blocks + 1  # two inputs; two ops and a combiner per block; the concat
        edges += 4 * blocks + len(output_states(cell, spec.wiring))  # op in/out; concat inputs
    assert (g.number_of_nodes(), g.number_of_edges()) == (nodes, edges)
    ops = sorted(a["op"] for _, a in g.nodes(data=True) if a["kind"] == "op")
    assert ops == sorted(o for c in (spec.normal, spec.reduce) for b in c.blocks for o in (b.op1, b.op2))


def test_network_view_counts_for_darts_v2_and_efficientnet_b0():
    darts = spec_of("darts_v2")
    cells = 3 * darts.n + 2  # N normal cells per stage, three stages, two reductions
    g = graph("darts_v2", "network")
    # input, stem, cells, pool, head, output; every cell reads h[i-2] and h[i-1], the first
    # cell reads the stem twice (one edge), the second the stem and the first cell
    assert g.number_of_nodes() == 1 + 1 + cells + 3
    assert g.number_of_edges() == 1 + 1 + 2 * (cells - 1) + 3
    eff = spec_of("efficientnet_b0")
    blocks = sum(stage.repeats for stage in eff.stages)
    assert blocks == 16  # EfficientNet-B0's Table 1: 1+2+2+3+3+4+1 MBConv blocks
    g = graph("efficientnet_b0", "network")
    kinds = [a["op"] for _, a in g.nodes(data=True)]
    assert kinds.count("block") == blocks and nx.is_directed_acyclic_graph(g)
    assert g.number_of_edges() == g.number_of_nodes() - 1  # one chain
    for _, a in g.nodes(data=True):
        if a["op"] == "block":
            assert {"kernel", "expand", "se_ratio", "residual"} <= set(a)


@pytest.mark.parametrize("name", ARCHS)
def test_network_totals_equal_the_analytic_cost_and_the_built_model(name):
    spec = spec_of(name)
    space = catalog.space_for(spec)
    g = space.to_graph(spec, view="network")
    cost = space.cost(spec)
    assert sum(a["params"] for _, a in g.nodes(data=True)) == g.graph["params"] == cost.params
    assert sum(a["macs"] for _, a in g.nodes(data=True)) == g.graph["macs"] == cost.macs
    model = space.build(spec)
    assert sum(p.numel() for p in model.parameters()) == cost.params


@pytest.mark.parametrize("name,view", [(n, "cell") for n in CELL_ARCHS] + [("efficientnet_b0", "network")])
def test_dot_and_graphml_round_trip_for_the_papers_architectures(name, view, tmp_path):
    g = graph(name, view)
    (tmp_path / "g.dot").write_text(to_dot(g))
    back = nx.nx_pydot.read_dot(tmp_path / "g.dot")
    assert {(u.strip('"'), v.strip('"')) for u, v in back.edges()} == {(str(u), str(v)) for u, v in g.edges}
    (tmp_path / "g.graphml").write_text(to_graphml(g))
    again = read_graphml(tmp_path / "g.graphml")
    assert nx.utils.graphs_equal(nx.relabel_nodes(g, str), again)


@NEEDS_DOT
@pytest.mark.parametrize("name,view", [(n, "cell") for n in CELL_ARCHS] + [("efficientnet_b0", "network")])
def test_svg_is_well_formed_and_has_every_op_label(name, view, capsys, tmp_path):
    out = tmp_path / "g.svg"
    code, _, err = cli(capsys, name, "--view", view, "--format", "svg", "-o", out)
    assert code == 0 and "matplotlib" not in err
    root = ET.parse(out).getroot()
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    g = graph(name, view)
    for _, a in g.nodes(data=True):
        assert a["label"] in text, a["label"]
    assert "op=" in out.read_text()  # node tooltips


@pytest.mark.parametrize("use_dot", [True, False], ids=["dot", "matplotlib"])
def test_png_from_both_renderers_is_sane(use_dot, capsys, tmp_path, monkeypatch):
    if use_dot and find_dot() is None:
        pytest.skip("Graphviz 'dot' is not installed (tools/system-deps.sh)")
    if not use_dot:
        (tmp_path / "bin").mkdir()
        monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # a machine without Graphviz
    out = tmp_path / "cells.png"
    code, _, err = cli(capsys, "nasnet_a_mobile", "--view", "cell", "--format", "png", "-o", out)
    assert code == 0
    assert ("drew with matplotlib" in err) == (not use_dot)
    data = out.read_bytes()
    w, h = png_size(data)
    assert len(data) > 2000 and 200 < w < 8000 and 200 < h < 8000, (len(data), w, h)


def test_json_prints_spec_string_params_and_macs(capsys):
    code, out, _ = cli(capsys, "efficientnet_b0", "--format", "json")
    doc = json.loads(out)
    spec = spec_of("efficientnet_b0")
    cost = catalog.space_for(spec).cost(spec)
    assert code == 0 and doc["spec"] == spec.to_str()
    assert (doc["params"], doc["macs"]) == (cost.params, cost.macs) == (5_288_548, doc["macs"])
    assert abs(doc["macs"] / 385.8e6 - 1) < 0.005
    assert len(doc["graph"]["nodes"]) == graph("efficientnet_b0", "network").number_of_nodes()


def test_text_table_and_retargeting(capsys):
    code, out, _ = cli(capsys, "darts_v2")
    spec = spec_of("darts_v2")
    assert code == 0 and f"params {catalog.space_for(spec).cost(spec).params:,}" in out
    assert out.count("normal cell") == 3 * spec.n and "reduction cell" in out
    code, out100, _ = cli(capsys, "darts_v2", "--num-classes", "100", "--format", "json")
    code, out10, _ = cli(capsys, "darts_v2", "--format", "json")
    a, b = json.loads(out10), json.loads(out100)
    feats = [n for n in a["graph"]["nodes"] if n["id"] == "pool"][0]["channels"]
    assert b["params"] - a["params"] == 90 * (feats + 1)  # 90 more classifier rows
    code, out64, _ = cli(capsys, "darts_v2", "--resolution", "64", "--format", "json")
    assert json.loads(out64)["params"] == a["params"]
    assert json.loads(out64)["macs"] > 3.9 * a["macs"]


def test_html_page_has_inline_drawings_and_the_cost_table(capsys, tmp_path):
    out = tmp_path / "p.html"
    code, _, _ = cli(capsys, "darts_v2", "--format", "html", "-o", out)
    page = out.read_text()
    spec = spec_of("darts_v2")
    assert code == 0 and page.count("<svg") == 2 and "<img" not in page
    assert f"{catalog.space_for(spec).cost(spec).params:,}" in page
    ET.fromstring(page[page.index("<svg"):page.index("</svg>") + 6])  # the inline SVG parses


def test_diff_names_the_differing_decisions_and_the_cost_change(capsys):
    code, out, _ = cli(capsys, "--diff", "darts_v1", "darts_v2")
    a, b = spec_of("darts_v1"), spec_of("darts_v2")
    space = catalog.space_for(a)
    da, db = space.decisions(a), space.decisions(b)
    differing = [d.name for d, i, j in zip(space.dimensions(), da, db) if i != j]
    assert code == 0 and differing and f"{len(differing)} decision(s) differ" in out
    assert all(name in out for name in differing)
    delta = space.cost(b).params - space.cost(a).params
    assert f"({delta:+,}," in out
    code, dot_text, _ = cli(capsys, "--diff", "darts_v1", "darts_v2", "--format", "dot")
    assert "#d62728" in dot_text


def test_diff_of_specs_outside_the_search_space_compares_their_fields(capsys):
    """EfficientNet-B0/B1 lie outside the MnasNet search space (swish stem), so no decision
    sequence exists; the diff falls back to the spec fields: compound scaling's depth and size."""
    code, out, _ = cli(capsys, "--diff", "efficientnet_b0", "efficientnet_b1", "--format", "json")
    doc = json.loads(out)
    fields = {f["name"]: (f["a"], f["b"]) for f in doc["other_fields"]}
    assert code == 0 and doc["decisions"] == [] and "not comparable" in doc["note"]
    assert fields["resolution"] == (224, 240) and fields["stages[1].repeats"] == (2, 3)
    assert (doc["a"]["params"], doc["b"]["params"]) == (5_288_548, 7_794_184)  # torchvision's B0/B1
    assert doc["highlight"]["s2"] == "changed"  # the stage node of the deeper stage


def _run_dir(tmp_path, trials) -> Path:
    """A real run directory: the run store with (spec, outcome) trials."""
    from nas.search.store import RunStore
    from nas.strategies.base import Candidate

    run = tmp_path / "run"
    run.mkdir()
    with RunStore(run / "trials.sqlite") as store:
        for i, (spec, outcome) in enumerate(trials):
            store.propose(Candidate(i, spec, ()), spec.to_str(), state={})
            if outcome is not None:
                store.finish(i, outcome, state={}, elapsed_s=float(i))
    return run


def test_run_directory_top_k_in_reward_order(capsys, tmp_path):
    from nas.strategies.base import Failure, Result

    names = ["darts_v1", "darts_v2", "amoebanet_a_cifar"]
    run = _run_dir(tmp_path, [(spec_of("darts_v1"), Result(0.91)), (spec_of("darts_v2"), Result(0.95)),
                              (spec_of("amoebanet_a_cifar"), Failure("oom")),
                              (spec_of("nasnet_a_cifar"), None)])
    code, out, _ = cli(capsys, run, "--top", "3", "--format", "json")
    docs = json.loads(out)
    assert code == 0 and [d["spec"] for d in docs] == [spec_of(n).to_str() for n in names[1::-1]]
    code, out, _ = cli(capsys, run, "--format", "json")
    assert json.loads(out)["spec"] == spec_of("darts_v2").to_str()
    code, _, _ = cli(capsys, run, "--top", "2", "--view", "cell", "--format", "dot", "-o", tmp_path / "top.dot")
    assert code == 0 and sorted(p.name for p in tmp_path.glob("top-*.dot")) == ["top-1.dot", "top-2.dot"]
    assert "dil 3x3" in (tmp_path / "top-1.dot").read_text()  # DARTS-V2's normal cell
    code, out, err = cli(capsys, run, "--top", "2", "--format", "dot")
    assert code == 2 and "give -o PATH" in err


@pytest.mark.parametrize("argv,needle", [
    (["no_such_arch"], "no_such_arch"),
    (["cell:normal=sep_conv_3x3@0+bogus_op@1"], "reduce"),
    (["DARTS_V2_WITH_BOGUS_OP"], "bogus_op"),
    (["EFFICIENTNET_B0_WITH_BAD_TOKEN"], "kx"),
    (["darts_v2", "--view", "stage"], "view"),
    (["--diff", "darts_v2", "efficientnet_b0"], "same space"),
])
def test_bad_input_gives_one_clear_line_and_exit_2(argv, needle, capsys):
    if argv == ["DARTS_V2_WITH_BOGUS_OP"]:  # a real spec string with one unknown op
        argv = [spec_of("darts_v2").to_str().replace("dil_conv_3x3", "bogus_op")]
    if argv == ["EFFICIENTNET_B0_WITH_BAD_TOKEN"]:  # a real block string with a malformed kernel
        argv = [spec_of("efficientnet_b0").to_str().replace("_k5_", "_kx_", 1)]
    code, out, err = cli(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err and err.startswith("nas inspect: error:")


def test_run_directory_without_a_finished_trial_is_one_clear_error(capsys, tmp_path):
    from nas.strategies.base import Failure

    run = _run_dir(tmp_path, [(spec_of("darts_v2"), None), (spec_of("darts_v1"), Failure("nan loss"))])
    code, out, err = cli(capsys, run)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "no finished trial" in err


def test_cell_drawings_for_the_report(tmp_path, monkeypatch):
    paths = cell_drawings(spec_of("darts_v2"), tmp_path / "a")
    assert [p.name.split("-")[1] for p in paths] == ["normal.svg" if find_dot() else "normal.png",
                                                     "reduce.svg" if find_dot() else "reduce.png"]
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    pngs = cell_drawings(spec_of("darts_v2"), tmp_path / "b")
    assert [p.suffix for p in pngs] == [".png", ".png"] and all(png_size(p.read_bytes())[0] > 100 for p in pngs)
    blocks = cell_drawings(spec_of("efficientnet_b0"), tmp_path / "c")
    assert len(blocks) == 1 and blocks[0].stat().st_size > 2000


def test_inspect_builds_no_module(tmp_path):
    """Honest check in a fresh interpreter: no torch.nn.Module is constructed and no network
    builder module is imported while inspecting every view and format."""
    script = f"""
import json, sys, torch
made = []
orig = torch.nn.Module.__init__
def counting(self, *a, **k):
    made.append(type(self).__name__)
    orig(self, *a, **k)
torch.nn.Module.__init__ = counting
from nas.cli import main
codes = []
for argv in (["darts_v2", "--view", "cell", "--format", "svg"], ["nasnet_a_mobile", "--format", "json"],
             ["efficientnet_b0", "--format", "html"], ["--diff", "darts_v1", "darts_v2"]):
    codes.append(main(["inspect", *argv, "-o", {str(tmp_path)!r} + "/out"]))
builders = sorted(m for m in sys.modules if m.startswith("search_spaces.") and
                  (m.endswith("_network") or m.endswith("_net")))
print(json.dumps({{"codes": codes, "made": made, "builders": builders}}))
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"codes": [0, 0, 0, 0], "made": [], "builders": []}
