"""Run directories under faults, with real driver processes and real SQLite: a lost WAL or a
truncated store never restarts a run from 0, a user's folder is never written into, one driver
per run (a live holder refused, a dead one's lock taken over), Ctrl-C exits 130 with the resume
command, and a GPU-sized experiment is checked against this machine before anything exists."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
import torch

from nas import cli
from nas.config import load_config
from nas.search import search
from nas.search.progress import Progress
from nas.search.runner import resolve_device
from reliability_helpers import ROOT, cli as nas_cli, env, snapshot, toy_config


def rows(run_dir: Path) -> list[tuple]:
    conn = sqlite3.connect(run_dir / "trials.sqlite")
    try:  # closed at once: the lost-WAL test deletes files an open connection would still map
        return conn.execute("SELECT candidate_id, spec, status, reward, metrics FROM trials ORDER BY seq").fetchall()
    finally:
        conn.close()


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(nas_cli("search", *args), cwd=ROOT, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(proc: subprocess.Popen, text: str) -> list[str]:
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"never printed {text!r}: {seen}")


def stable(run_dir: Path) -> dict:
    """Snapshot without SQLite's shared-memory and WAL files (a reader may create them) and the
    driver lock (taken, then freed, by the refused driver)."""
    return {k: v for k, v in snapshot(run_dir).items()
            if not k.endswith(("-shm", "-wal")) and k != "driver.lock"}


@pytest.mark.slow
def test_lost_wal_after_a_kill_keeps_every_finished_trial(tmp_path):
    config = toy_config(tmp_path, evaluation={"options": {"sleep": 0.3}}, budget={"trials": 10})
    run_dir = tmp_path / "run"
    proc = start([str(config), "--run-dir", str(run_dir)])
    try:
        wait_for(proc, "4/10 finished")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    finished = [r for r in rows(run_dir) if r[2] != "running"]
    for suffix in ("-wal", "-shm"):  # only trials.sqlite copied: the realistic loss
        Path(f"{run_dir / 'trials.sqlite'}{suffix}").unlink(missing_ok=True)
    assert [r for r in rows(run_dir) if r[2] != "running"] == finished and len(finished) >= 4
    out = subprocess.run(nas_cli("search", "--resume", str(run_dir), "--quiet"), cwd=ROOT, env=env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    after = rows(run_dir)
    assert len(after) == 10 and all(r[2] == "done" for r in after)
    assert after[:len(finished)] == finished


def _finished_run(tmp_path: Path, trials: int = 4) -> Path:
    config = load_config(toy_config(tmp_path, budget={"trials": trials}))
    return search(config, tmp_path / "run", progress=Progress(enabled=False), allow_code=True).run_dir


def _resume_refused(run_dir: Path, capsys, *words: str) -> None:
    before = stable(run_dir)
    assert cli.main(["search", "--allow-code", "--resume", str(run_dir), "budget.trials=8"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "trials.sqlite" in last and all(w in last for w in words), last
    assert stable(run_dir) == before  # nothing overwritten


def test_truncated_store_is_refused_and_nothing_is_overwritten(tmp_path, capsys):
    run_dir = _finished_run(tmp_path)
    store = run_dir / "trials.sqlite"
    store.write_bytes(store.read_bytes()[:4096])
    _resume_refused(run_dir, capsys, "unreadable", "restore")


def test_store_older_than_best_json_is_refused(tmp_path, capsys):
    run_dir = _finished_run(tmp_path, trials=2)
    old = tmp_path / "old.sqlite"
    shutil.copy(run_dir / "trials.sqlite", old)
    search(load_config(run_dir / "config.yaml", ["budget.trials=4"]), run_dir, resume=True,
           progress=Progress(enabled=False), allow_code=True)
    best = json.loads((run_dir / "best.json").read_text())
    shutil.copy(old, run_dir / "trials.sqlite")  # a stale copy restored over the run
    assert len(best) == 4  # the restored copy holds only 2 of them
    _resume_refused(run_dir, capsys, "disagrees")


def test_run_dir_that_is_a_user_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "work" / "mine"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("my own notes\n")
    (folder / "best.json").write_text("[1, 2, 3]\n")
    before = snapshot(tmp_path / "work")
    assert cli.main(["search", "--allow-code", str(toy_config(tmp_path)), "--run-dir", str(folder)]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert str(folder) in last and "neither empty nor a search run" in last
    assert snapshot(tmp_path / "work") == before and not (tmp_path / "work" / "latest").exists()
    empty = tmp_path / "work" / "empty"
    empty.mkdir()
    search(load_config(toy_config(tmp_path, budget={"trials": 1})), empty, progress=Progress(enabled=False),
           allow_code=True)
    assert (empty / "trials.sqlite").is_file() and not (tmp_path / "work" / "latest").exists()


def test_second_driver_on_a_run_is_refused_while_the_first_finishes(tmp_path):
    # Trials slow enough that the first driver still runs while the second starts on a loaded machine.
    config = toy_config(tmp_path, evaluation={"options": {"sleep": 2.0}}, budget={"trials": 8})
    run_dir = tmp_path / "run"
    first = start([str(config), "--run-dir", str(run_dir)])
    try:
        wait_for(first, "1/8 finished")
        second = subprocess.run(nas_cli("search", "--resume", str(run_dir)), cwd=ROOT, env=env(),
                                capture_output=True, text=True, timeout=60)
        out, err = first.communicate(timeout=120)
    finally:
        first.kill()
    assert second.returncode == 2
    assert f"another driver (pid {first.pid} on" in second.stderr.strip().splitlines()[-1]
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, err
    assert len(rows(run_dir)) == 8 and all(r[2] == "done" for r in rows(run_dir))


def test_lock_of_a_dead_driver_is_taken_over_with_a_note(tmp_path, capsys):
    run_dir = _finished_run(tmp_path, trials=2)
    dead_pid = subprocess.Popen(["true"])  # a driver that has exited without freeing its lock
    dead_pid.wait()
    (run_dir / "driver.lock").write_text(json.dumps({"pid": dead_pid.pid, "host": os.uname().nodename}))
    assert cli.main(["search", "--allow-code", "--resume", str(run_dir), "budget.trials=3", "--quiet"]) == 0
    assert f"took over {run_dir / 'driver.lock'} from driver pid {dead_pid.pid}" in capsys.readouterr().err
    assert len(rows(run_dir)) == 3 and (run_dir / "driver.lock").read_text() == ""


@pytest.mark.slow
def test_ctrl_c_exits_130_with_the_resume_command(tmp_path):
    config = toy_config(tmp_path, evaluation={"options": {"sleep": 0.4}}, budget={"trials": 10})
    run_dir = tmp_path / "run"
    proc = start([str(config), "--run-dir", str(run_dir)])
    wait_for(proc, "2/10 finished")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert "interrupted after" in last and last.endswith(f"continue with: nas search --resume {run_dir}")
    assert "Traceback" not in err and "finished 10 trials" not in out
    resumed = subprocess.run(nas_cli(*last.split("continue with: nas ")[1].split()), cwd=ROOT, env=env(),
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert len(rows(run_dir)) == 10 and all(r[2] == "done" for r in rows(run_dir))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only machine's behaviour")
def test_gpu_sized_experiments_run_on_cpu_or_are_refused_before_anything_exists(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("cifar10_nasnet_rl", "cifar10_evolution", "cifar10_mnasnet"):
        config = load_config(ROOT / "experiments" / f"{name}.yaml")
        assert config.execution.gpus_per_trial == 0.25
        assert resolve_device(config).execution.gpus_per_trial == 0.0
        assert "gpus_per_trial=0.25 ignored" in capsys.readouterr().err
    path = str(ROOT / "experiments" / "cifar10_nasnet_rl.yaml")
    assert cli.main(["search", "--allow-code", path, "execution.device=gpu"]) == 2
    assert "execution.device" in capsys.readouterr().err.strip().splitlines()[-1]
    assert cli.main(["search", "--allow-code", path, "execution.cpus_per_trial=64"]) == 2
    assert "execution.cpus_per_trial" in capsys.readouterr().err.strip().splitlines()[-1]
    assert list(tmp_path.iterdir()) == []  # no run, no runs/latest
