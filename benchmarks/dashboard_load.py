"""Dashboard cost: first paint over a 10,000-trial run store, and the refresh cost while a search runs.

1. First paint: a synthetic NAS-Bench-201 run store of 10,000 finished trials (real specs, decisions
   and per-epoch rows, written through ``RunStore``'s schema); server time for everything the page
   needs before it can draw: the page, ``/api/runs``, ``/api/run/0/version`` and ``/api/run/0/state``
   (cold: a fresh server, nothing cached). Target < 2 s.
2. Refresh cost: ``nas dashboard`` in its own process over a local-backend search that is still
   running (a trial every ~0.3 s, 3 epochs each), polled the way the page does (version every
   second, state when it changed, the running trial's epochs); CPU seconds the server process used
   (/proc utime + stime) per wall second. Target < 5% of one core.

    PYTHONPATH=$PWD python benchmarks/dashboard_load.py     # writes benchmarks/results/dashboard_load.json
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
TRIALS = 10_000


def synthetic_run(run_dir: Path, n: int = TRIALS) -> None:
    from nas.config import dump_config, load_config, to_dict
    from nas.search.store import RunStore
    from search_spaces import catalog

    config = load_config(ROOT / "experiments/nasbench201_tpe.yaml", [f"budget.trials={n}"])
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(dump_config(config))
    space, rng = catalog.make_space("nasbench201"), np.random.default_rng(0)
    sizes = [len(d.choices) for d in space.dimensions()]
    with RunStore(run_dir / "trials.sqlite") as store:
        store.set_meta("config", to_dict(config))
        store.set_meta("elapsed_s", float(n))
        with store._txn():
            for i in range(n):
                decisions = [int(rng.integers(s)) for s in sizes]
                spec = space.to_str(space.freeze(decisions))
                reward = float(rng.uniform(0.1, 0.95))
                metrics = {"val_acc": reward, "params": int(rng.integers(1e5, 1.5e6)),
                           "macs": int(rng.integers(1e7, 2e8))}
                store.conn.execute(
                    "INSERT INTO trials (candidate_id, spec, decisions, status, reward, metrics, proposed_at,"
                    " finished_at, elapsed_s) VALUES (?, ?, ?, 'done', ?, ?, ?, ?, ?)",
                    (i, spec, json.dumps(decisions), reward, json.dumps(metrics), 1e9 + i, 1e9 + i + 1, i + 1.0))
                for epoch in (1, 2, 3):
                    store.conn.execute("INSERT INTO epochs VALUES (?, ?, ?, ?, ?)", (
                        i, epoch, json.dumps({"val_acc": reward * epoch / 3}), 1e9 + i, i + 0.3 * epoch))


def first_paint(run_dir: Path) -> dict:
    from nas.dashboard.server import make_server
    start = time.perf_counter()
    server = make_server([run_dir], port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    sizes = {}
    for path in ("/", "/static/app.js", "/api/runs", "/api/run/0/version", "/api/run/0/state"):
        with urllib.request.urlopen(url + path) as resp:
            sizes[path] = len(resp.read())
    total = time.perf_counter() - start
    state = json.loads(urllib.request.urlopen(url + "/api/run/0/state").read())
    t0 = time.perf_counter()
    urllib.request.urlopen(url + "/api/run/0/state").read()
    warm = time.perf_counter() - t0
    server.shutdown()
    server.server_close()
    return {"trials": len(state["trials"]), "rows": len(state["table"]), "first_paint_s": round(total, 3),
            "state_bytes": sizes["/api/run/0/state"], "warm_state_s": round(warm, 4), "target_s": 2.0}


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def refresh_cost(tmp: Path, seconds: float = 30.0) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    run_dir = tmp / "live"
    search = subprocess.Popen(
        [sys.executable, "-m", "nas.cli", "search", str(ROOT / "experiments/nasbench201_tpe.yaml"), "--allow-code",
         "--run-dir", str(run_dir), "--quiet", "strategy.name=random", "budget.trials=100000",
         f"budget.time_s={seconds + 20}", "evaluation.kind=function",
         "evaluation.function=dashboard_toys:slow_cell", "evaluation.options.sleep=0.3"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (run_dir / "trials.sqlite").is_file():
        time.sleep(0.1)
    server = subprocess.Popen([sys.executable, "-m", "nas.cli", "dashboard", str(run_dir), "--port", "0"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    url = re.search(r"http://\S+/", server.stdout.readline()).group(0).rstrip("/")
    get = lambda path: json.loads(urllib.request.urlopen(url + path).read())  # noqa: E731
    get("/api/run/0/state")  # the page's first load, not part of the steady refresh
    cpu0, wall0, version, refreshes, polls = _cpu_s(server.pid), time.monotonic(), None, 0, 0
    while time.monotonic() - wall0 < seconds:
        polls += 1
        v = get("/api/run/0/version")["version"]
        if v != version:
            version, refreshes = v, refreshes + 1
            state = get("/api/run/0/state")
            running = [t for t in state["trials"] if t["status"] == "running"]
            if running:
                get(f"/api/run/0/epochs/{running[0]['id']}")
        time.sleep(1.0)
    cpu, wall = _cpu_s(server.pid) - cpu0, time.monotonic() - wall0
    trials = len(get("/api/run/0/state")["trials"])
    for proc in (server, search):
        proc.terminate()
        proc.wait(timeout=30)
    return {"wall_s": round(wall, 1), "server_cpu_s": round(cpu, 2),
            "cpu_percent_of_one_core": round(100 * cpu / wall, 2),
            "polls": polls, "refreshes": refreshes, "trials_at_end": trials, "target_percent": 5.0}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        synthetic_run(tmp / "synthetic")
        results = {"synthetic_store_build_s": round(time.perf_counter() - t0, 1),
                   "first_paint": first_paint(tmp / "synthetic"), "refresh": refresh_cost(tmp)}
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    out = ROOT / "benchmarks/results/dashboard_load.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    ok = results["first_paint"]["first_paint_s"] < 2.0 and results["refresh"]["cpu_percent_of_one_core"] < 5.0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
