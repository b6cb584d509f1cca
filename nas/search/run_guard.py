"""What guards a run directory: one driver at a time (``RunLock``, a kernel lock with the holder
named) and a cross-check of the store against the run's other records before ``--resume``
(``check_records``), so a lost WAL or a truncated store is refused instead of silently restarting."""
from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

LOCK_NAME = "driver.lock"


class RunLock:
    """An exclusive ``flock`` on ``RUN_DIR/driver.lock``, which names the holder (pid, host).

    The kernel drops the lock when its process dies, however it dies, so a lock left by a killed
    driver is stale by construction: the next driver takes it over and says whose it was. An
    empty file is a free lock (the file is never deleted: a deleted lock file could be locked twice).
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self.fd: int | None = None
        self.note: str | None = None  # set when a stale lock was taken over

    def __enter__(self) -> "RunLock":
        import fcntl
        import socket
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise ValueError(f"{self.path.parent}: another driver (pid {holder.get('pid', '?')} on "
                             f"{holder.get('host', '?')}) holds this run; wait for it to finish or "
                             "stop it, then --resume") from None
        previous = _holder(fd)
        if previous.get("pid") not in (None, os.getpid()):
            self.note = (f"note: took over {self.path} from driver pid {previous['pid']} on "
                         f"{previous.get('host', '?')}, which is no longer running")
        me = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
        os.ftruncate(fd, 0)
        os.pwrite(fd, me.encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            try:
                os.ftruncate(self.fd, 0)  # free; the lock itself goes with the descriptor
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None


def _holder(fd: int) -> dict:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------- resume cross-check


def check_records(run_dir: str | Path) -> None:
    """Refuse to resume a run whose store disagrees with its other records (``best.json``,
    ``strategy.json``, Ray's trial folders): a truncated store or one that lost its WAL would
    otherwise restart the search from 0 and overwrite them. Reads only."""
    run_dir = Path(run_dir)
    path = run_dir / "trials.sqlite"
    hint = (f"{path}: {{}}; restore trials.sqlite together with trials.sqlite-wal from a copy, or "
            "start a new run (nothing was changed)")
    try:
        # Not mode=ro: a read-only connection cannot replay a WAL left by a killed driver.
        conn = sqlite3.connect(str(path), timeout=30)
        try:
            rows = conn.execute("SELECT candidate_id, status, reward FROM trials").fetchall()
            has_state = conn.execute("SELECT 1 FROM meta WHERE key = 'strategy_state'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise ValueError(hint.format(f"the run store is unreadable ({err})")) from None
    known = {cid: (status, reward) for cid, status, reward in rows}
    problems = []
    for entry in _json_list(run_dir / "best.json"):
        cid = entry.get("candidate_id") if isinstance(entry, dict) else None
        if cid is not None and (known.get(cid, ("", None))[0] not in ("done", "stopped")
                                or known[cid][1] != entry.get("reward")):
            problems.append(f"best.json lists trial {cid} with reward {entry.get('reward')}, the store "
                            f"{'does not hold it' if cid not in known else 'holds ' + repr(known[cid])}")
            break
    if (run_dir / "strategy.json").is_file() and has_state is None:
        problems.append("strategy.json holds a strategy state, the store none")
    missing = sorted(_ray_candidates(run_dir) - set(known))
    if missing:
        problems.append(f"Ray ran trial(s) {missing[:5]} that the store does not hold")
    if problems:
        raise ValueError(hint.format("the run store disagrees with the run's other records ("
                                     + "; ".join(problems) + ")"))


def _json_list(path: Path) -> list:
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []  # rewritten from the store on the next event
    return data if isinstance(data, list) else []


def _ray_candidates(run_dir: Path) -> set[int]:
    """Candidate ids of Ray's trial folders (``ray/session-N/candidate-<id>-<trial id>``)."""
    ids = set()
    for folder in (run_dir / "ray").glob("session-*/candidate-*"):
        part = folder.name.split("-")[1]
        if part.isdigit():
            ids.add(int(part))
    return ids
