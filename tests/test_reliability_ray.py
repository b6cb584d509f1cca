"""A default local Ray search as a user runs it: Ray's agents on loopback (``ss -ltn``), Ray's token
notice in the run's log instead of the progress output, no world-writable file in the run, a
GPU-sized config running on a CPU machine, and Ctrl-C exiting 130 with a working resume command."""
from __future__ import annotations

import shutil
import signal
import stat
import subprocess
import sys

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
