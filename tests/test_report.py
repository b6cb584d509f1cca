"""``nas report``: the page, the PNGs, the top table and the Pareto front of a real (toy) run."""
from __future__ import annotations

import html
from pathlib import Path

import pytest
import yaml

from nas import cli
from nas.config import load_config
from nas.report import load_run, write_report
from nas.report_plots import best_so_far
from nas.search import search
from nas.search.progress import Progress
from search_toys import ToySpace, toy_score


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    path = tmp / "toy.yaml"
    path.write_text(yaml.safe_dump({
        "name": "toy-report", "space": {"name": "search_toys:ToySpace"},
        "strategy": {"name": "search_toys:ToyHillClimb"},
        "evaluation": {"kind": "function", "function": "search_toys:faulty"},
        "execution": {"backend": "local"}, "budget": {"trials": 14}}))
    return search(load_config(path), tmp / "run", progress=Progress(enabled=False), allow_code=True).run_dir


def test_best_so_far_skips_failures():
    assert list(best_so_far([None, 0.2, 0.1, None, 0.5])[1:]) == [0.2, 0.2, 0.2, 0.5]


def test_report_page_plots_and_top_table(run_dir, capsys):
    assert cli.main(["report", str(run_dir), "--top", "3"]) == 0
    printed = capsys.readouterr().out
    page = run_dir / "report" / "index.html"
    text = page.read_text()
    for name in ("best_vs_trials.png", "best_vs_time.png", "pareto_macs.png", "pareto_params.png"):
        png = run_dir / "report" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        assert f"src='{name}'" in text
    run = load_run(run_dir)
    space = ToySpace()
    top = run.top(3)
    best_per_spec: dict[str, float] = {}
    for t in run.scored:  # repeats of one architecture fold into its best trial
        best_per_spec[t.spec] = max(t.reward, best_per_spec.get(t.spec, t.reward))
    assert [t.reward for t in top] == sorted(best_per_spec.values(), reverse=True)[:3]
    assert len({t.spec for t in top}) == len(top)
    assert all(t.reward == toy_score(space.from_str(t.spec)) for t in top)
    assert html.escape(top[0].spec) in text and top[0].spec in printed.splitlines()[1]
    failed = [t for t in run.trials if t.status == "failed"]
    assert failed and f"Failed trials ({len(failed)})" in text
    assert html.escape(failed[0].reason) in text


def test_pareto_front_is_non_dominated(run_dir):
    run = load_run(run_dir)
    pts = [(t.reward, t.metrics["macs"]) for t in run.scored]
    from nas.strategies.pareto import pareto_front
    front = set(int(i) for i in pareto_front(pts, maximize=(True, False)))
    for i in front:  # nothing is at least as good on both axes and better on one
        assert not any(r >= pts[i][0] and m <= pts[i][1] and (r, m) != pts[i] for r, m in pts)
    for i in set(range(len(pts))) - front:
        assert any(r >= pts[i][0] and m <= pts[i][1] and (r, m) != pts[i] for r, m in pts)


def test_extra_sections_hook(run_dir):
    def drawings(run, out):
        (out / "extra.txt").write_text("x")
        return f"<h2>Cells</h2><p>{len(run.top(2))} drawn</p>"

    page = write_report(run_dir, extra_sections=[drawings]).read_text()
    assert "<h2>Cells</h2><p>2 drawn</p>" in page and (run_dir / "report" / "extra.txt").exists()


def test_report_on_a_non_run_dir_is_one_error(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "not a search run directory" in capsys.readouterr().err
