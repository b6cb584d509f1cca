"""The search loop on the in-process ``local`` backend: determinism, failures recorded with their
reasons, a SIGKILLed driver resumed to exactly the uninterrupted sequence, and the CLI."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from nas import cli
from nas.config import load_config
from nas.search import search
from nas.search.progress import Progress
from search_toys import toy_score, ToySpace

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


def toy_config(tmp_path: Path, **sections) -> Path:
    data = {"name": "toy", "seed": 7,
            "space": {"name": "search_toys:ToySpace"},
            "strategy": {"name": "search_toys:ToyHillClimb"},
            "evaluation": {"kind": "function", "function": "search_toys:score"},
            "data": {"dataset": "none"},
            "execution": {"backend": "local"},
            "budget": {"trials": 8},
            "output": str(tmp_path / "runs")}
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def table(run_dir: Path) -> list[tuple]:
    with sqlite3.connect(run_dir / "trials.sqlite") as conn:
        return conn.execute("SELECT candidate_id, spec, status, reward, metrics, reason, "
                            "finished_at, attempts FROM trials ORDER BY seq").fetchall()


def test_same_config_and_seed_same_proposals(tmp_path):
    config = load_config(toy_config(tmp_path))
    quiet = Progress(enabled=False)
    a = search(config, tmp_path / "a", progress=quiet, allow_code=True)
    b = search(config, tmp_path / "b", progress=quiet, allow_code=True)
    c = search(load_config(toy_config(tmp_path), ["seed=8"]), tmp_path / "c", progress=quiet, allow_code=True)
    assert len(a.proposed) == 8 and a.proposed == b.proposed
    assert c.proposed != a.proposed
    rows = table(a.run_dir)
    space = ToySpace()
    assert [r[1] for r in rows] == list(a.proposed)
    assert all(r[3] == toy_score(space.from_str(r[1])) for r in rows)
    assert a.best_reward == max(r[3] for r in rows)
    assert (a.run_dir / "config.yaml").is_file() and (a.run_dir / "environment.json").is_file()


def test_latest_link_follows_the_newest_run_and_spares_a_real_folder(tmp_path):
    config = load_config(toy_config(tmp_path, budget={"trials": 2}))
    quiet = Progress(enabled=False)
    first = search(config, progress=quiet, allow_code=True).run_dir
    latest = tmp_path / "runs" / "latest"
    assert latest.resolve() == first
    second = search(config, progress=quiet, allow_code=True).run_dir
    assert second != first and latest.resolve() == second
    assert (latest / "trials.sqlite").is_file()
    latest.unlink()
    latest.mkdir()  # a user's own folder of that name is never replaced
    search(config, progress=quiet, allow_code=True)
    assert latest.is_dir() and not latest.is_symlink()


def test_raising_and_diverging_candidates_fail_and_budget_completes(tmp_path):
    config = load_config(toy_config(tmp_path), ["evaluation.function=search_toys:faulty",
                                                "budget.trials=12", "space.options.widths=[8, 32, 64]"])
    summary = search(config, tmp_path / "run", progress=Progress(enabled=False), allow_code=True)
    rows = table(summary.run_dir)
    assert len(rows) == 12 and all(r[2] in ("done", "failed") for r in rows)
    reasons = {r[1].split("-")[0]: r[5] for r in rows if r[2] == "failed"}
    assert reasons.get("toy:w8", "").startswith("RuntimeError: cannot build toy:w8")
    assert "diverged: reward is nan" in reasons.get("toy:w64", "")
    assert all(r[3] is not None for r in rows if r[2] == "done")


def test_progress_line_per_change_off_a_terminal_and_in_place_on_one():
    import io
    import re
    from nas.search.progress import Snapshot
    out = io.StringIO()
    progress = Progress(out, tty=False)
    snap = Snapshot(done=3, running=2, failed=1, budget=8, elapsed_s=3725.0, best_reward=0.4321,
                    event="trial 5 done: 0.4321")
    progress.update(snap)
    progress.update(snap)  # no change, no line
    progress.update(Snapshot(4, 1, 1, 8, 3726.0, 0.4321))
    lines = out.getvalue().splitlines()
    # ETA at the pace so far: 4 of 8 finished in 3725 s leaves 3725 s; 5 of 8 in 3726 s, 3/5 of it
    assert lines == ["[1:02:05] 4/8 finished (3 ok, 1 failed), 2 running, best 0.4321, eta 1:02:05 | "
                     "trial 5 done: 0.4321",
                     "[1:02:06] 5/8 finished (4 ok, 1 failed), 1 running, best 0.4321, eta 0:37:15"]
    tty = io.StringIO()
    live = Progress(tty, tty=True, epochs_per_trial=4)
    live.update(Snapshot(3, 2, 1, 8, 3725.0, 0.4321, event="trial 5 done", epochs=((6, 1), (7, 3))))
    live.close()
    # the rich live display: counts, elapsed, eta, running trials' epochs
    shown = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", tty.getvalue())
    assert "4/8 finished (1 failed), 2 running" in shown and "elapsed 1:02:05" in shown
    assert "trial 6 epoch 1/4, trial 7 epoch 3/4" in shown and "eta 0:37:15" in shown


def test_cli_errors_are_one_line(tmp_path, capsys):
    path = toy_config(tmp_path)
    assert cli.main(["search", "--allow-code", str(path), "budget.trials=zero"]) == 2
    err = capsys.readouterr().err
    assert "budget.trials" in err and "'zero'" in err and "integer" in err
    assert cli.main(["search", "--allow-code", str(path), "strategy.options.bogus=1"]) == 2
    assert "strategy.options.bogus" in capsys.readouterr().err
    assert cli.main(["search", "--allow-code", "--resume", str(tmp_path)]) == 2
    assert "not a search run directory" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # nothing ran, nothing was written


def test_sigkilled_local_driver_resumes_to_the_uninterrupted_sequence(tmp_path):
    path = toy_config(tmp_path, evaluation={"options": {"sleep": 0.4}}, budget={"trials": 10})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
    run_dir = tmp_path / "killed"
    cmd = [sys.executable, "-m", "nas.cli", "search", "--allow-code", str(path), "--run-dir", str(run_dir)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        for line in proc.stdout:
            if "4/10 finished" in line:
                break
        time.sleep(0.2)  # into the next trial
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    before = table(run_dir)
    finished_before = [r for r in before if r[2] != "running"]
    assert 4 <= len(finished_before) < 10
    resumed = subprocess.run(cmd[:5] + ["--resume", str(run_dir)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    after = table(run_dir)
    assert len(after) == 10 and all(r[2] == "done" for r in after)
    assert after[:len(finished_before)] == finished_before  # unchanged, not re-run
    assert len({r[0] for r in after}) == 10
    reference = search(load_config(path), tmp_path / "reference", progress=Progress(enabled=False), allow_code=True)
    assert [r[1] for r in after] == list(reference.proposed)
