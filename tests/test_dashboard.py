"""The dashboard's server and data layer without a browser: its JSON over a real run (counts,
folded rows, best-so-far, Pareto front, epochs, drawings, importance), read-only access that
leaves the store untouched, bad paths answered 404, and repeats folded like ``nas.runs.top``."""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from nas import runs
from nas.config import load_config
from nas.dashboard.data import pareto
from nas.dashboard.server import make_server
from nas.report import load_run
from nas.search import search
from nas.search.progress import Progress
from search_toys import ToySpace, toy_score
from test_search_local import toy_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def serve():
    servers = []

    def start(*run_dirs: Path) -> str:
        server = make_server(list(run_dirs), port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
        server.app.close()


def get(url: str, headers: dict | None = None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as resp:
        return resp.read(), resp.headers


def test_pareto_front_keeps_points_nothing_beats():
    points = [(10, 0.5, 1), (20, 0.7, 2), (15, 0.4, 3), (30, 0.7, 4), (5, 0.3, 5), (40, 0.9, 6)]
    assert pareto(points) == [5, 1, 2, 6]


def test_state_of_a_toy_run_is_exact_and_reading_writes_nothing(tmp_path, serve):
    spec_a, spec_b = "toy:w32-d3-swish", "toy:w8-d1-relu"
    config = load_config(toy_config(tmp_path), ["budget.trials=5", "strategy.name=search_toys:FixedList",
                                                f"strategy.options.specs=[{spec_a}, {spec_b}, {spec_a}]"])
    run_dir = search(config, tmp_path / "run", progress=Progress(enabled=False), allow_code=True).run_dir
    store = run_dir / "trials.sqlite"
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    url = serve(run_dir)
    state = json.loads(get(url + "/api/run/0/state")[0])
    assert state["run"]["status"] == "finished" and state["run"]["finished"] == 5
    assert state["run"]["counts"] == {"running": 0, "done": 5, "stopped": 0, "failed": 0}
    assert [t["spec"] for t in state["table"]] == [spec_a, spec_b]
    assert [t["repeats"] for t in state["table"]] == [3, 2]
    score_a = toy_score(ToySpace().from_str(spec_a))
    assert [p[2] for p in state["best_curve"]] == [score_a] * 5
    assert state["run"]["best"]["reward"] == score_a and state["run"]["best"]["seq"] == 1
    assert state["pareto"]["macs"] == [2, 1]  # w8 is cheapest, w32-d3 the best
    epochs = json.loads(get(url + "/api/run/0/epochs/0")[0])
    assert [(e["epoch"], round(e["val_acc"], 6)) for e in epochs] == [(1, round(score_a / 2, 6)), (2, score_a)]
    version = json.loads(get(url + "/api/run/0/version")[0])["version"]
    assert json.loads(get(url + "/api/run/0/version")[0])["version"] == version  # nothing changed
    drawing = json.loads(get(url + "/api/run/0/draw/1")[0])
    assert "custom code" in drawing["error"]  # toy spaces are code the dashboard does not import
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before
    assert not (run_dir / "trials.sqlite-journal").exists()
    for bad in ("/api/run/9/state", "/api/run/0/nothing", "/static/../../setup.cfg", "/etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as err:
            get(url + bad)
        assert err.value.code == 404, bad
    body, headers = get(url + "/static/plotly.min.js", {"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and b"plotly.js v4.1.2" in gzip.decompress(body)[:200]
    page = get(url + "/")[0].decode()
    assert "/static/plotly.min.js" in page and "http" not in page.split("<body>")[1]  # no external asset


@pytest.mark.slow
def test_tabular_tpe_top10_are_ten_distinct_cells_in_report_and_dashboard(tmp_path, serve, shared_data):
    config = load_config(ROOT / "experiments/nasbench201_tpe.yaml", ["budget.trials=80"])
    run_dir = search(config, tmp_path / "tpe", progress=Progress(enabled=False)).run_dir
    frame = runs.trials_frame(run_dir)
    assert frame["spec"].duplicated().any(), "TPE asked no cell twice: nothing to fold"
    top = runs.top(run_dir, 10)
    assert len({r.spec for r in top}) == 10
    assert [r.spec for r in load_run(run_dir).top(10)] == [r.spec for r in top]  # what the report lists
    state = json.loads(get(serve(run_dir) + "/api/run/0/state")[0])
    table = sorted(state["table"], key=lambda t: (-t["reward"], t["seq"]))
    assert [t["spec"] for t in table[:10]] == [r.spec for r in top]
    assert len(state["table"]) == frame["spec"].nunique() and len(state["trials"]) == 80
    importance = json.loads(get(serve(run_dir) + "/api/run/0/importance")[0])
    assert set(importance["importances"]) == {d["name"] for d in state["dims"]}
    assert abs(sum(importance["importances"].values()) - 1.0) < 1e-6
    drawing = json.loads(get(serve(run_dir) + f"/api/run/0/draw/{table[0]['seq']}")[0])
    assert drawing["svg"].startswith("<svg") and drawing["view"] == "cell"
    diff = json.loads(get(serve(run_dir) + f"/api/run/0/diff/{table[0]['seq']}/{table[1]['seq']}")[0])
    assert "decision(s) differ" in diff["text"] and diff["svg"].startswith("<svg")
