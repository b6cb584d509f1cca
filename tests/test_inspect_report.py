"""``nas report`` embeds the cell drawings of its top architectures (the inspect helper's
section through the report's extra-sections hook), on a real run store."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from nas.cli import main
from nas.graphs import find_dot
from nas.search.store import RunStore
from nas.strategies.base import Candidate, Failure, Result
from search_spaces import catalog

TRIALS = [("darts_v1", Result(0.90, {"macs": 1.0})), ("darts_v2", Result(0.95, {"macs": 2.0})),
          ("nasnet_a_cifar", Failure("out of memory")), ("amoebanet_a_cifar", Result(0.93, {"macs": 3.0}))]


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with RunStore(run / "trials.sqlite") as store:
        for i, (name, outcome) in enumerate(TRIALS):
            spec = catalog.resolve(name)
            store.propose(Candidate(i, spec, ()), spec.to_str(), state={})
            store.finish(i, outcome, state={}, elapsed_s=float(i))
    return run


def _section(page: str) -> str:
    assert "<h2>Top architectures drawn</h2>" in page
    return page.split("<h2>Top architectures drawn</h2>", 1)[1]


@pytest.mark.skipif(find_dot() is None, reason="Graphviz 'dot' is not installed (tools/system-deps.sh)")
def test_report_inlines_svg_cells_of_the_top_three_in_reward_order(run_dir, capsys):
    assert main(["report", str(run_dir)]) == 0
    section = _section((run_dir / "report" / "index.html").read_text())
    heads = [h.split("<", 1)[0] for h in section.split("<h3>")[1:]]
    assert [h.split(":")[0] for h in heads] == ["#1", "#2", "#3"]
    assert "trial 1," in heads[0] and "trial 3," in heads[1] and "trial 0," in heads[2]
    v2 = catalog.resolve("darts_v2")
    assert f"{catalog.space_for(v2).cost(v2).params:,} params" in heads[0]
    svgs = [s.split("</svg>")[0] + "</svg>" for s in section.split("<svg")[1:]]
    assert len(svgs) == 6  # normal + reduction cell for each of the three
    for svg in svgs:
        ET.fromstring("<svg" + svg)
    assert "dil 3x3" in svgs[0] and "max 3x3" in svgs[1]  # DARTS-V2's normal and reduction cells


def test_report_without_dot_links_matplotlib_pngs(run_dir, capsys, tmp_path, monkeypatch):
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert main(["report", str(run_dir)]) == 0
    section = _section((run_dir / "report" / "index.html").read_text())
    srcs = [part.split("'", 1)[0] for part in section.split("<img src='")[1:]]
    assert len(srcs) == 6 and "<svg" not in section
    for src in srcs:
        data = (run_dir / "report" / src).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
