"""The Python API (``nas.api``): a search from Python, the run read back (trials, epochs, CSV,
top, best), and the notebook displays (a run's HTML summary, an architecture's SVG)."""
from __future__ import annotations

from nas import api
from search_toys import ToySpace, toy_score
from test_search_local import toy_config


def test_search_load_inspect_and_notebook_displays(tmp_path):
    run = api.search(toy_config(tmp_path), ["budget.trials=6"], run_dir=tmp_path / "run", progress=False,
                     allow_code=True)
    again = api.load_run(run.run_dir)
    frame = again.trials()
    assert len(frame) == 6 and list(frame["reward"]) == [toy_score(ToySpace().from_str(s)) for s in frame["spec"]]
    assert len(again.epochs()) == 12
    best = again.top(1)[0]
    assert best.reward == frame["reward"].max()
    page = again._repr_html_()
    assert "finished" in page and f"{best.reward:.4f}" in page and "6/6" in page
    assert again.export_csv(tmp_path / "t.csv").read_text().count("\n") == 7


def test_arch_draws_itself_and_knows_its_cost():
    cell = api.arch("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")
    svg = cell._repr_svg_()
    assert svg.startswith("<svg") and "nor_conv_3x3" in svg
    assert cell.cost().params > 0 and str(cell).startswith("|nor_conv_3x3~0|")
