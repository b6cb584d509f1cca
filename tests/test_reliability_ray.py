"""A default local Ray search as a user runs it: Ray's agents on loopback (``ss -ltn``), Ray's token
notice in the run's log instead of the progress output, no world-writable file in the run, a
GPU-sized config running on a CPU machine, and Ctrl-C exiting 130 with a working resume command;
Ray's session files closed to others and its token private; nothing of the cluster left running
after a finish or after the driver is SIGKILLed."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import torch

from reliability_helpers import ROOT, cli, env, toy_config

pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def ray_listeners(driver_pid: int) -> list[str]:
    """Local addresses of listening TCP sockets owned by Ray's processes or the driver (ss -ltnp)."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, timeout=10).stdout
    names = ('"gcs_server"', '"raylet"', '"ray::', f"pid={driver_pid},")
    return [line.split()[3] for line in out.splitlines() if any(n in line for n in names)]


def is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]").removeprefix("::ffff:")
    return host.startswith("127.") or host == "::1"


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("ss") is None,
                    reason="ss -ltn is Linux's")
def test_default_local_search_on_loopback_interrupted_and_resumed(tmp_path):
    config = toy_config(tmp_path, evaluation={"options": {"sleep": 2.0}}, budget={"trials": 6},
                        execution={"backend": "ray", "num_cpus": 2, "max_concurrent": 2,
                                   "gpus_per_trial": 0.25})
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(cli("search", str(config), "--run-dir", str(run_dir)), cwd=ROOT, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "2 running" in line:
            break
    listeners = ray_listeners(proc.pid)
    for line in proc.stdout:
        lines.append(line)
        if "1/6 finished" in line:
            break
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=90)
    out = "".join(lines) + rest
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].endswith(f"continue with: nas search --resume {run_dir}")
    if not torch.cuda.is_available():
        assert "gpus_per_trial=0.25 ignored" in err
    # the token notice went to the run's log, not into the progress output
    assert "Token authentication" not in out
    notices = run_dir / "ray" / "notices.log"
    assert notices.is_file()
    # every Ray server (GCS, raylet, workers, agents) and the driver on loopback, none on 0.0.0.0/[::]
    assert any("127.0.0.1" in a for a in listeners), listeners
    assert all(is_loopback(a) for a in listeners), listeners
    resumed = subprocess.run(cli("search", "--resume", str(run_dir), "--quiet"), cwd=ROOT, env=env(),
                             capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    assert "finished 6 trials" in resumed.stdout
    world = [p for p in run_dir.rglob("*") if p.stat().st_mode & stat.S_IWOTH and not p.is_symlink()]
    assert world == []


AGENTS = {"ray::DashboardA", "ray::RuntimeEnv"}  # command names are cut at 15 characters


def in_session(sid: int) -> dict[int, str]:
    """Live processes of session ``sid``, pid -> command name: a driver started in a session of
    its own (``start_new_session``) and everything it, Ray's daemons and their workers started
    (Ray starts none in a session of its own)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[3]) == sid and fields[0] != "Z":
                    found[int(entry.name)] = (entry / "comm").read_text().strip()
            except OSError:
                continue
    return found


def kill_session(sid: int) -> None:
    for pid in in_session(sid):  # clean-up by pid, only what this test started
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def isolated(tmp_path):
    """The environment of a driver whose Ray files and token are this test's alone: ``HOME`` (where
    Ray keeps ``.ray/auth_token``) under tmp_path, and ``RAY_TMPDIR`` a short folder of its own
    (Ray's socket paths must stay under 108 bytes)."""
    ray_tmp = Path(tempfile.mkdtemp(prefix="nasray", dir="/tmp"))
    home = tmp_path / "home"
    home.mkdir()
    yield {**env(), "HOME": str(home), "RAY_TMPDIR": str(ray_tmp)}
    shutil.rmtree(ray_tmp, ignore_errors=True)


def loose(root: Path) -> list[str]:
    """Paths under ``root`` (``root`` itself included, symlinks excluded) that others may write."""
    paths = [root, *root.rglob("*")]
    return [f"{oct(p.lstat().st_mode & 0o777)} {p}" for p in paths
            if not p.is_symlink() and p.lstat().st_mode & stat.S_IWOTH]


def start(args: list[str], environ: dict) -> subprocess.Popen:
    return subprocess.Popen(cli(*args), cwd=ROOT, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_local_search_leaves_private_files_and_no_processes(tmp_path, isolated):
    """A finished local search: every file and folder of Ray's session (logs, sockets, port files)
    closed to others, the token Ray generated for the new cluster readable by its owner only, and
    nothing of the cluster still running."""
    config = toy_config(tmp_path, budget={"trials": 2},
                        execution={"backend": "ray", "num_cpus": 2, "max_concurrent": 2})
    run_dir = tmp_path / "run"
    proc = start(["search", str(config), "--run-dir", str(run_dir), "--quiet"], isolated)
    try:
        out, _ = proc.communicate(timeout=240)
        time.sleep(1)
        left = in_session(proc.pid)
    finally:
        kill_session(proc.pid)
    assert proc.returncode == 0, out
    assert "finished 2 trials" in out
    assert left == {}
    ray_tmp = Path(isolated["RAY_TMPDIR"])
    sessions = [p for p in ray_tmp.rglob("session_*") if not p.is_symlink()]
    assert len(sessions) == 1, sessions
    session = sessions[0]
    assert {"logs", "sockets"} <= {p.name for p in session.iterdir()}
    assert len(list((session / "logs").iterdir())) > 5  # the walk below covers Ray's real logs
    assert loose(ray_tmp) == []
    assert f"Ray's session (logs): {session}" in (run_dir / "ray" / "notices.log").read_text()
    token = Path(isolated["HOME"]) / ".ray" / "auth_token"
    assert token.is_file() and len(token.read_text().strip()) >= 32
    assert token.stat().st_mode & 0o077 == 0, oct(token.stat().st_mode)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkilled_driver_leaves_no_ray_processes(tmp_path, isolated):
    """SIGKILL the driver while two trials run: within 30 s no process of its cluster (GCS, raylet,
    agents, workers) is left. A token file that predates the search, readable by all, is left
    readable by its owner only, with its content unchanged."""
    token = Path(isolated["HOME"]) / ".ray" / "auth_token"
    token.parent.mkdir()
    secret = uuid.uuid4().hex * 2
    token.write_text(secret)
    token.chmod(0o644)
    config = toy_config(tmp_path, evaluation={"options": {"sleep": 60.0}}, budget={"trials": 4},
                        execution={"backend": "ray", "num_cpus": 2, "max_concurrent": 2})
    proc = start(["search", str(config), "--run-dir", str(tmp_path / "run")], isolated)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "2 running" in line:
                break
        assert "2 running" in lines[-1], "".join(lines)
        deadline = time.monotonic() + 60
        while not AGENTS <= set((running := in_session(proc.pid)).values()):
            assert time.monotonic() < deadline, f"Ray's agents never came up: {running}"
            time.sleep(1)
        assert {"gcs_server", "raylet"} <= set(running.values()), running
        proc.kill()
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while (left := in_session(proc.pid)) and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        kill_session(proc.pid)
    assert left == {}, f"{len(left)} of {len(running)} still running: {sorted(left.values())}"
    assert token.read_text() == secret
    assert token.stat().st_mode & 0o777 == 0o600
