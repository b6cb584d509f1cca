"""Joining an existing Ray cluster: ``ray start --head`` on this machine (started and stopped by
this test, by its own process ids, never ``ray stop``), ``nas search --address``, and the trials
run there."""
from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from search_toys import group_alive, kill_group

import ray  # noqa: F401,E402  (always installed: a missing ray is an install error, not a skip)
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    port = free_port()
    # A private temp dir: `ray start` records its address there, not in /tmp/ray where every
    # plain ray.init() on this machine (other test modules, other users) would pick it up.
    temp_dir = tempfile.mkdtemp(prefix="raytest", dir="/tmp")  # short: Ray's sockets live there
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
    ray_cli = Path(sys.executable).with_name("ray")
    # --block keeps `ray start` in the foreground: stopping it stops this cluster only (never
    # `ray stop`, which would also stop other users' Ray instances on the machine).
    proc = subprocess.Popen([str(ray_cli), "start", "--head", "--block", f"--port={port}",
                             f"--temp-dir={temp_dir}", "--num-cpus=2", "--num-gpus=0",
                             "--include-dashboard=false", "--disable-usage-stats"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("ray start --head did not come up") from None
                time.sleep(0.5)
        time.sleep(2)  # the raylet registers just after the GCS port opens
        yield proc, f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        kill_group(proc.pid)
        time.sleep(0.5)
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert group_alive(proc.pid) == []


def test_search_joins_cluster_by_address(cluster, tmp_path):
    proc, address = cluster
    config = tmp_path / "where.yaml"
    config.write_text(yaml.safe_dump({
        "name": "where", "space": {"name": "search_toys:ToySpace"},
        "strategy": {"name": "search_toys:ToyHillClimb"},
        "evaluation": {"kind": "function", "function": "search_toys:where"},
        "execution": {"backend": "ray", "max_concurrent": 2}, "budget": {"trials": 3}}))
    run_dir = tmp_path / "run"
    # Ray clusters use token authentication by default; a client naming an address opts in
    # explicitly (the token is the user's ~/.ray/auth_token, which `ray start` used too).
    env = {**os.environ, "RAY_AUTH_MODE": "token",
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
    done = subprocess.run([sys.executable, "-m", "nas.cli", "search", "--allow-code", str(config), "--address",
                           address, "--run-dir", str(run_dir)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3/3 finished" in done.stdout
    with sqlite3.connect(run_dir / "trials.sqlite") as conn:
        table = conn.execute("SELECT status, metrics FROM trials").fetchall()
    assert [s for s, _ in table] == ["done"] * 3
    port = address.rsplit(":", 1)[1]
    assert {json.loads(m)["gcs"].rsplit(":", 1)[1] for _, m in table} == {port}
    assert proc.poll() is None  # a joined cluster is left running
