"""Fault test (a): SIGKILL the search driver mid-search (it started Ray itself), ``--resume``, and
the table ends with exactly the budgeted trials, the ones finished before the kill unchanged,
none repeated, the interrupted ones run again, and the strategy continued from its checkpoint."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from search_toys import ToySpace, group_alive, kill_group, toy_score

import ray  # noqa: F401,E402  (always installed: a missing ray is an install error, not a skip)
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
BUDGET = 8


def rows(run_dir: Path) -> list[tuple]:
    with sqlite3.connect(run_dir / "trials.sqlite") as conn:
        return conn.execute("SELECT * FROM trials ORDER BY seq").fetchall()


def driver(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nas.cli", "search", "--allow-code", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def test_sigkill_driver_then_resume(tmp_path):
    config = tmp_path / "slow.yaml"
    config.write_text(yaml.safe_dump({
        "name": "slow", "seed": 11, "space": {"name": "search_toys:ToySpace"},
        "strategy": {"name": "search_toys:ToyHillClimb"},
        "evaluation": {"kind": "function", "function": "search_toys:score",
                       "options": {"sleep": 1.0}},
        "execution": {"backend": "ray", "num_cpus": 2, "max_concurrent": 2},
        "budget": {"trials": BUDGET}}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
    run_dir = tmp_path / "run"
    first = driver([str(config), "--run-dir", str(run_dir)], env)
    try:
        lines = []
        for line in first.stdout:
            lines.append(line)
            if f"3/{BUDGET} finished" in line:
                break
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        kill_group(first.pid)  # Ray's daemons do not all die with a SIGKILLed driver
    assert f"3/{BUDGET} finished" in lines[-1], "".join(lines)
    before = rows(run_dir)
    finished = [r for r in before if r[4] != "running"]
    interrupted = [r for r in before if r[4] == "running"]
    assert 3 <= len(finished) < BUDGET and interrupted

    second = driver(["--resume", str(run_dir)], env)
    try:
        out, _ = second.communicate(timeout=240)
    finally:
        kill_group(second.pid)
    assert second.returncode == 0, out
    after = rows(run_dir)
    assert len(after) == BUDGET and all(r[4] == "done" for r in after)
    assert len({r[1] for r in after}) == BUDGET  # candidate ids: none repeated
    by_id = {r[1]: r for r in after}
    for r in finished:  # every trial finished before the kill is unchanged, not re-run
        assert by_id[r[1]] == r
    for r in interrupted:  # same candidate run again, once more
        again = by_id[r[1]]
        assert again[2] == r[2] and again[9] == r[9] + 1 and again[8] != r[8]
    space = ToySpace()
    assert all(r[5] == toy_score(space.from_str(r[2])) for r in after)
    state = json.loads((run_dir / "strategy.json").read_text())
    assert state["told"] == BUDGET and state["next_id"] == BUDGET
    assert len(json.loads((run_dir / "environment.json").read_text())) == 2  # two sessions
    time.sleep(0.5)
    assert group_alive(first.pid) == [] and group_alive(second.pid) == []
